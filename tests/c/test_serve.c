/* sb_server_serve: events handed to a callback. In inline mode messages are handled as the
 * loop decodes them and replies to the same connection go straight out. The "inline"
 * client echo and broadcast are served that way, inline and with I/O threads. */
#include "harness.h"

struct state {
    sb_server *server;
    int opens, closes, messages, busy;
};

/* Echoes every message, except that a text starting with "B:" goes to every client. */
static void handle(const sb_event *e, void *user) {
    struct state *s = user;
    if (e->kind == SB_EVENT_OPEN) {
        s->opens++;
        CHECK(tc_str_eq(e->open->path, "/a") || tc_str_eq(e->open->path, "/b"));
        /* The loop is busy inside this call. */
        sb_event events[4];
        size_t n = 0;
        s->busy += sb_server_wait(s->server, events, 4, 0, &n) == SB_ERR_BUSY;
    } else if (e->kind == SB_EVENT_CLOSE) {
        s->closes++;
        CHECK(e->close_code == 1000 && e->clean);
        CHECK(e->reason.ptr != NULL);
    } else {
        s->messages++;
        if (e->message_kind == SB_TEXT && tc_payload_starts(e, "B:"))
            CHECK_OK(sb_server_broadcast(s->server, SB_TEXT, e->data, e->len, 0));
        else
            CHECK_OK(sb_server_send(s->server, e->id, e->message_kind, e->data, e->len));
    }
}

static void serve_with(unsigned threads) {
    sb_config *config = tc_config();
    CHECK_OK(sb_config_threads(config, threads));
    struct state s = {.server = tc_start(config)};
    tc_client("inline", s.server, NULL);
    while (tc_running() || (s.closes < 2 && tc_millis_left() > 0)) {
        size_t n = 0;
        CHECK_OK(sb_server_serve(s.server, 50, handle, &s, &n));
    }
    CHECK(tc_client_passed());
    CHECK(s.opens == 2);
    CHECK(s.closes == 2);
    CHECK(s.messages == 53);
    CHECK(s.busy == 2);
    size_t n = 0;
    CHECK_RESULT(sb_server_serve(s.server, 0, NULL, &s, &n), SB_ERR_NULL);
    CHECK_OK(sb_server_shutdown(s.server));
    CHECK_RESULT(sb_server_serve(s.server, 0, handle, &s, &n), SB_ERR_SHUT_DOWN);
    sb_server_free(s.server);
}

int main(void) {
    serve_with(0);
    serve_with(1);
    return tc_verdict("serve");
}
