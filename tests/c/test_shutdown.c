/* Graceful shutdown from another thread while this one is blocked in sb_server_wait:
 * clients get 1001, the final close events are delivered, then SB_ERR_SHUT_DOWN; every
 * later command is refused with SB_ERR_SHUT_DOWN. */
#include "harness.h"

#include <pthread.h>

static void *shut_down(void *server) {
    CHECK_OK(sb_server_shutdown(server));
    return NULL;
}

int main(void) {
    sb_server *server = tc_start(tc_config());
    tc_client("shutdown", server, NULL);
    static sb_event events[64];
    int opens = 0, readies = 0;
    sb_conn_id some_id = 0;
    while (readies < 3 && tc_running()) {
        size_t n = tc_wait(server, events, 64);
        for (size_t i = 0; i < n; i++) {
            opens += events[i].kind == SB_EVENT_OPEN;
            readies += tc_payload_eq(&events[i], "ready");
            some_id = events[i].id;
        }
    }
    CHECK(readies == 3);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, shut_down, server) == 0);
    int closes = 0;
    sb_result r;
    size_t n;
    while ((r = sb_server_wait(server, events, 64, -1, &n)) == SB_OK) {
        for (size_t i = 0; i < n; i++) {
            if (events[i].kind != SB_EVENT_CLOSE) continue;
            closes++;
            CHECK(events[i].close_code == 1001);
            CHECK(events[i].clean);
        }
    }
    CHECK_RESULT(r, SB_ERR_SHUT_DOWN);
    pthread_join(thread, NULL);
    CHECK(opens == 3);
    CHECK(closes == 3);
    CHECK(tc_client_passed());

    const uint8_t *x = (const uint8_t *)"x";
    CHECK_RESULT(sb_server_wait(server, events, 64, 0, &n), SB_ERR_SHUT_DOWN);
    CHECK_RESULT(sb_server_wait(server, events, 64, -1, &n), SB_ERR_SHUT_DOWN);
    CHECK_RESULT(sb_server_send(server, some_id, SB_TEXT, x, 1), SB_ERR_SHUT_DOWN);
    CHECK_RESULT(sb_server_broadcast(server, SB_TEXT, x, 1, 0), SB_ERR_SHUT_DOWN);
    CHECK_RESULT(sb_server_publish(server, "t", SB_TEXT, x, 1, 0), SB_ERR_SHUT_DOWN);
    CHECK_RESULT(sb_server_subscribe(server, some_id, "t"), SB_ERR_SHUT_DOWN);
    CHECK_RESULT(sb_server_close(server, some_id, 1000, NULL), SB_ERR_SHUT_DOWN);
    CHECK_RESULT(sb_server_send_to_user(server, "u", SB_TEXT, x, 1, NULL), SB_ERR_SHUT_DOWN);
    CHECK_RESULT(sb_server_accept(server, some_id, NULL), SB_ERR_SHUT_DOWN);
    sb_conn_info *info = NULL;
    CHECK_RESULT(sb_server_info(server, some_id, &info), SB_ERR_SHUT_DOWN);
    CHECK(info == NULL);
    CHECK_OK(sb_server_shutdown(server)); /* again: nothing to do */
    sb_stats stats;
    CHECK_OK(sb_server_stats(server, &stats));
    CHECK(stats.closed_by.shutdown == 3);
    CHECK(stats.connections == 0);
    int fd = -1;
    CHECK_OK(sb_server_event_fd(server, &fd));
    CHECK(fd >= 0);
    sb_server_free(server);
    return tc_verdict("shutdown");
}
