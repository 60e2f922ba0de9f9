/* Echo: every message comes back with its kind; the handshake's path, query and headers
 * are visible in the open event and through sb_server_info. */
#include "harness.h"

static void check_open(const sb_server *server, const sb_event *e) {
    const sb_open *open = e->open;
    CHECK(open != NULL);
    CHECK(e->id != 0);
    CHECK(tc_str_eq(open->method, "GET"));
    CHECK(tc_str_eq(open->path, "/echo/path"));
    CHECK(tc_str_eq(open->query, "a=1&b=two"));
    CHECK(strncmp(open->peer.ptr, "127.0.0.1:", 10) == 0);
    CHECK(open->subprotocol.ptr == NULL);
    CHECK(!open->pending);
    CHECK(open->header_count >= 5);
    sb_str value;
    CHECK_OK(sb_open_header(open, "x-test", &value));
    CHECK(tc_str_eq(value, "yes"));
    CHECK_OK(sb_open_header(open, "HOST", &value));
    CHECK(strncmp(value.ptr, "127.0.0.1:", 10) == 0);
    CHECK_RESULT(sb_open_header(open, "X-Missing", &value), SB_ERR_NOT_FOUND);
    bool found = false;
    for (size_t i = 0; i < open->header_count; i++)
        found |= tc_str_eq(open->headers[i].name, "X-Test") &&
                 tc_str_eq(open->headers[i].value, "yes");
    CHECK(found);

    sb_conn_info *info = NULL;
    CHECK_OK(sb_server_info(server, e->id, &info));
    if (info) {
        CHECK(info->id == e->id);
        CHECK(tc_str_eq(info->path, "/echo/path"));
        CHECK(tc_str_eq(info->query, "a=1&b=two"));
        CHECK(strncmp(info->peer.ptr, "127.0.0.1:", 10) == 0);
        CHECK(info->user.ptr == NULL);
        CHECK(info->subprotocol.ptr == NULL);
        CHECK(!info->pending);
    }
    sb_conn_info_free(info);
}

int main(void) {
    sb_server *server = tc_start(tc_config());
    tc_client("echo", server, NULL);
    static sb_event events[1024];
    int opens = 0, closes = 0, messages = 0;
    while (tc_running()) {
        size_t n = tc_wait(server, events, 1024);
        for (size_t i = 0; i < n; i++) {
            const sb_event *e = &events[i];
            if (e->kind == SB_EVENT_OPEN) {
                opens++;
                check_open(server, e);
            } else if (e->kind == SB_EVENT_MESSAGE) {
                messages++;
                CHECK(e->message_kind == SB_TEXT || e->message_kind == SB_BINARY);
                CHECK(e->data != NULL);
                CHECK_OK(sb_server_send(server, e->id, e->message_kind, e->data, e->len));
                CHECK_OK(sb_server_flush(server));
            } else if (e->kind == SB_EVENT_CLOSE) {
                closes++;
                CHECK(e->close_code == 1000);
                CHECK(e->clean);
                CHECK(e->reason.ptr != NULL);
            }
        }
    }
    CHECK(tc_client_passed());
    closes += tc_more_closes(server, 1 - closes);
    CHECK(opens == 1);
    CHECK(closes == 1);
    CHECK(messages == 109);
    sb_stats stats;
    CHECK_OK(sb_server_stats(server, &stats));
    CHECK(stats.messages_in == 109);
    CHECK(stats.messages_out == 109);
    CHECK(stats.accepted >= 1);
    CHECK(stats.connections == 0);
    CHECK(stats.closed_by.peer == 1);
    sb_server_free(server);
    return tc_verdict("echo");
}
