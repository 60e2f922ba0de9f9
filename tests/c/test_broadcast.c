/* Broadcast: to every connection, and to every connection but one. */
#include "harness.h"

int main(void) {
    sb_server *server = tc_start(tc_config());
    tc_client("broadcast", server, NULL);
    static sb_event events[256];
    int opens = 0, closes = 0;
    sb_conn_id go_from = 0;
    bool done = false;
    while (tc_running()) {
        size_t n = tc_wait(server, events, 256);
        for (size_t i = 0; i < n; i++) {
            const sb_event *e = &events[i];
            opens += e->kind == SB_EVENT_OPEN;
            closes += e->kind == SB_EVENT_CLOSE;
            if (tc_payload_eq(e, "go")) go_from = e->id;
        }
        /* Only once all three are known: an open event may trail another's message. */
        if (opens == 3 && go_from != 0 && !done) {
            done = true;
            const uint8_t binary[] = {1, 2};
            CHECK_OK(sb_server_broadcast(server, SB_TEXT, (const uint8_t *)"to-all", 6, 0));
            CHECK_OK(sb_server_broadcast(server, SB_BINARY, binary, 2, go_from));
            CHECK_OK(sb_server_send(server, go_from, SB_TEXT, (const uint8_t *)"after", 5));
            CHECK_RESULT(sb_server_broadcast(server, 9, binary, 2, 0), SB_ERR_INVALID_ARGUMENT);
            CHECK_RESULT(sb_server_broadcast(server, SB_TEXT, (const uint8_t *)"\xff", 1, 0),
                         SB_ERR_INVALID_UTF8);
            CHECK_RESULT(sb_server_broadcast(server, SB_TEXT, NULL, 3, 0), SB_ERR_NULL);
        }
    }
    CHECK(tc_client_passed());
    CHECK(done);
    CHECK(opens == 3);
    sb_server_free(server);
    return tc_verdict("broadcast");
}
