/* Handshake authorization: pending opens carry path, query, headers and the proposed
 * subprotocol; the application accepts (overriding the subprotocol, adding headers) or
 * rejects with a status and body, or says nothing until the handshake timeout. */
#include "harness.h"

static void decide(sb_server *server, const sb_event *e) {
    const sb_open *open = e->open;
    CHECK(open->pending);
    sb_conn_info *info = NULL;
    CHECK_OK(sb_server_info(server, e->id, &info));
    CHECK(info && info->pending);
    sb_conn_info_free(info);
    if (tc_str_eq(open->query, "token=good")) {
        CHECK(tc_str_eq(open->path, "/room"));
        sb_str auth;
        CHECK_OK(sb_open_header(open, "Authorization", &auth));
        CHECK(tc_str_eq(auth, "Bearer good"));
        CHECK(tc_str_eq(open->subprotocol, "chat")); /* the server's preference */
        sb_accept bad = {.subprotocol = "nope"};
        CHECK_RESULT(sb_server_accept(server, e->id, &bad), SB_ERR_SUBPROTOCOL_NOT_OFFERED);
        sb_response_header bad_name[] = {{"Bad Name", "x"}};
        sb_accept bad2 = {.headers = bad_name, .header_count = 1};
        CHECK_RESULT(sb_server_accept(server, e->id, &bad2), SB_ERR_INVALID_HEADER);
        sb_response_header bad_value[] = {{"X-Ok", "a\r\nInjected: yes"}};
        sb_accept bad3 = {.headers = bad_value, .header_count = 1};
        CHECK_RESULT(sb_server_accept(server, e->id, &bad3), SB_ERR_INVALID_HEADER);
        sb_accept null_headers = {.headers = NULL, .header_count = 2};
        CHECK_RESULT(sb_server_accept(server, e->id, &null_headers), SB_ERR_NULL);
        sb_response_header headers[] = {{"Set-Cookie", "session=abc"},
                                        {"X-Served-By", "switchboard"}};
        sb_accept accept = {.subprotocol = "superchat", .headers = headers, .header_count = 2};
        CHECK_OK(sb_server_accept(server, e->id, &accept));
        CHECK_RESULT(sb_server_accept(server, e->id, &accept), SB_ERR_NOT_PENDING);
        CHECK_RESULT(sb_server_reject(server, e->id, 403, NULL), SB_ERR_NOT_PENDING);
        CHECK_OK(sb_server_info(server, e->id, &info));
        CHECK(info && tc_str_eq(info->subprotocol, "superchat") && !info->pending);
        sb_conn_info_free(info);
    } else if (tc_str_eq(open->query, "token=bad")) {
        CHECK_RESULT(sb_server_reject(server, e->id, 200, "no"), SB_ERR_INVALID_STATUS);
        CHECK_RESULT(sb_server_reject(server, e->id, 600, "no"), SB_ERR_INVALID_STATUS);
        CHECK_OK(sb_server_reject(server, e->id, 403, "forbidden"));
        /* Decided: refused, or already gone with its refusal. */
        sb_result again = sb_server_accept(server, e->id, NULL);
        CHECK(again == SB_ERR_NOT_PENDING || again == SB_ERR_UNKNOWN_CONNECTION);
    } else if (tc_str_eq(open->query, "token=plain")) {
        CHECK(open->subprotocol.ptr == NULL);
        CHECK_OK(sb_server_accept(server, e->id, NULL));
    } else {
        CHECK(tc_str_eq(open->query, "token=silent")); /* left to time out */
    }
}

int main(void) {
    sb_config *config = tc_config();
    CHECK_OK(sb_config_authorize(config, true));
    CHECK_OK(sb_config_subprotocol(config, "chat"));
    CHECK_OK(sb_config_subprotocol(config, "superchat"));
    CHECK_OK(sb_config_handshake_timeout_ms(config, 1000));
    sb_server *server = tc_start(config);
    tc_client("auth", server, NULL);
    static sb_event events[64];
    int opens = 0, closes = 0, messages = 0;
    while (tc_running()) {
        size_t n = tc_wait(server, events, 64);
        for (size_t i = 0; i < n; i++) {
            const sb_event *e = &events[i];
            if (e->kind == SB_EVENT_OPEN) {
                opens++;
                decide(server, e);
            } else if (e->kind == SB_EVENT_MESSAGE) {
                messages++;
                CHECK_OK(sb_server_send(server, e->id, e->message_kind, e->data, e->len));
            } else {
                closes++;
            }
        }
    }
    CHECK(tc_client_passed());
    closes += tc_more_closes(server, 4 - closes);
    CHECK(opens == 4);
    CHECK(messages == 2);
    CHECK(closes == 4); /* every open is followed by a close, refused ones too */
    sb_stats stats;
    CHECK_OK(sb_server_stats(server, &stats));
    CHECK(stats.handshakes_failed == 2);
    sb_server_free(server);
    return tc_verdict("auth");
}
