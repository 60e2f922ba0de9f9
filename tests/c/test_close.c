/* Close codes: the server closes (with and without a reason), the client closes with a
 * code, the client vanishes (1006); invalid codes and reasons are refused. */
#include "harness.h"

static void ok(sb_server *server, sb_conn_id id) {
    CHECK_OK(sb_server_send(server, id, SB_TEXT, (const uint8_t *)"ok", 2));
}

int main(void) {
    sb_server *server = tc_start(tc_config());
    tc_client("close", server, NULL);
    static sb_event events[64];
    /* Paths by open order; closes checked by the path of their id. */
    char paths[8][32] = {{0}};
    sb_conn_id ids[8] = {0};
    int opens = 0, closes = 0;
    while (tc_running()) {
        size_t n = tc_wait(server, events, 64);
        for (size_t i = 0; i < n; i++) {
            const sb_event *e = &events[i];
            if (e->kind == SB_EVENT_OPEN && opens < 8) {
                snprintf(paths[opens], sizeof paths[0], "%s", e->open->path.ptr);
                ids[opens++] = e->id;
            } else if (tc_payload_eq(e, "close-me")) {
                const int bad[] = {0, 999, 1004, 1005, 1006, 1010, 1015, 2999, 5000, 65535};
                for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
                    CHECK_RESULT(sb_server_close(server, e->id, (uint16_t)bad[k], "x"),
                                 SB_ERR_INVALID_CLOSE_CODE);
                char reason[125];
                memset(reason, 'r', 124);
                reason[124] = '\0';
                CHECK_RESULT(sb_server_close(server, e->id, 4000, reason), SB_ERR_REASON_TOO_LONG);
                CHECK_RESULT(sb_server_close(server, e->id, 4000, "\xff"), SB_ERR_INVALID_ARGUMENT);
                sb_conn_info *info = NULL;
                CHECK_OK(sb_server_info(server, e->id, &info));
                if (info && tc_str_eq(info->path, "/server-close"))
                    CHECK_OK(sb_server_close(server, e->id, 4001, "bye"));
                else
                    CHECK_OK(sb_server_close(server, e->id, 1000, NULL));
                sb_conn_info_free(info);
            } else if (tc_payload_eq(e, "ready")) {
                ok(server, e->id);
            } else if (e->kind == SB_EVENT_CLOSE) {
                closes++;
                const char *path = "";
                for (int k = 0; k < opens; k++)
                    if (ids[k] == e->id) path = paths[k];
                if (!strcmp(path, "/server-close")) {
                    CHECK(e->close_code == 4001 && tc_str_eq(e->reason, "bye") && e->clean);
                } else if (!strcmp(path, "/server-close-plain")) {
                    CHECK(e->close_code == 1000 && tc_str_eq(e->reason, "") && e->clean);
                } else if (!strcmp(path, "/client-close")) {
                    CHECK(e->close_code == 3000 && tc_str_eq(e->reason, "done") && e->clean);
                } else if (!strcmp(path, "/abort")) {
                    CHECK(e->close_code == 1006 && !e->clean);
                } else {
                    CHECK(!strcmp(path, "/last") && e->close_code == 1000);
                }
                /* The id is stale now. */
                CHECK_RESULT(sb_server_send(server, e->id, SB_TEXT, (const uint8_t *)"x", 1),
                             SB_ERR_UNKNOWN_CONNECTION);
                CHECK_RESULT(sb_server_close(server, e->id, 1000, NULL),
                             SB_ERR_UNKNOWN_CONNECTION);
            }
        }
    }
    CHECK(tc_client_passed());
    closes += tc_more_closes(server, 5 - closes);
    CHECK(opens == 5);
    CHECK(closes == 5);
    sb_stats stats;
    CHECK_OK(sb_server_stats(server, &stats));
    CHECK(stats.closed_by.application == 2);
    CHECK(stats.closed_by.abnormal == 1);
    sb_server_free(server);
    return tc_verdict("close");
}
