/* Threads: four threads send to one connection at once (each thread's messages arrive in
 * order), reading counters meanwhile; a second concurrent sb_server_wait gets SB_ERR_BUSY. */
#include "harness.h"

#include <pthread.h>
#include <time.h>

#define SENDERS 4
#define PER_SENDER 250

struct job {
    sb_server *server;
    sb_conn_id id;
    int index;
};

static void *sender(void *arg) {
    struct job *job = arg;
    char text[32];
    for (int i = 0; i < PER_SENDER; i++) {
        int len = snprintf(text, sizeof text, "t%d:%d", job->index, i);
        CHECK_OK(sb_server_send(job->server, job->id, SB_TEXT, (const uint8_t *)text, (size_t)len));
        if (i % 50 == 0) {
            sb_stats stats;
            CHECK_OK(sb_server_stats(job->server, &stats));
            sb_conn_info *info = NULL;
            CHECK_OK(sb_server_info(job->server, job->id, &info));
            sb_conn_info_free(info);
        }
    }
    return NULL;
}

static void *waiter(void *server) {
    static sb_event events[4];
    size_t n;
    CHECK_OK(sb_server_wait(server, events, 4, 1500, &n));
    CHECK(n == 0);
    return NULL;
}

static void busy_wait_is_refused(sb_server *server) {
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, waiter, server) == 0);
    struct timespec pause = {0, 300 * 1000000};
    nanosleep(&pause, NULL);
    sb_event events[4];
    size_t n = 99;
    CHECK_RESULT(sb_server_wait(server, events, 4, 0, &n), SB_ERR_BUSY);
    CHECK(n == 99);
    pthread_join(thread, NULL);
}

int main(void) {
    sb_server *server = tc_start(tc_config());
    busy_wait_is_refused(server);
    tc_client("threads", server, NULL);
    static sb_event events[64];
    while (tc_running()) {
        size_t n = tc_wait(server, events, 64);
        for (size_t i = 0; i < n; i++) {
            if (!tc_payload_eq(&events[i], "go")) continue;
            pthread_t threads[SENDERS];
            struct job jobs[SENDERS];
            for (int k = 0; k < SENDERS; k++) {
                jobs[k] = (struct job){server, events[i].id, k};
                CHECK(pthread_create(&threads[k], NULL, sender, &jobs[k]) == 0);
            }
            for (int k = 0; k < SENDERS; k++) pthread_join(threads[k], NULL);
            CHECK_OK(sb_server_send(server, events[i].id, SB_TEXT, (const uint8_t *)"end", 3));
        }
    }
    CHECK(tc_client_passed());
    sb_stats stats;
    CHECK_OK(sb_server_stats(server, &stats));
    CHECK(stats.messages_out == SENDERS * PER_SENDER + 1);
    sb_server_free(server);
    return tc_verdict("threads");
}
