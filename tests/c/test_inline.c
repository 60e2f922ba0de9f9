/* Inline mode (sb_config_threads 0): no I/O thread; the event loop runs inside
 * sb_server_wait on this thread. The same echo and broadcast are served from a blocking
 * sb_server_wait loop and from a poll(2) loop on sb_server_event_fd; then a shutdown from
 * another thread reaches clients while this one is blocked in sb_server_wait. */
#include "harness.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>

/* Threads of this process named switchboard-io*: the engine's I/O threads. */
static int io_threads(void) {
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return -1;
    int count = 0;
    struct dirent *task;
    while ((task = readdir(dir)) != NULL) {
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", task->d_name);
        FILE *comm = fopen(path, "r");
        if (!comm) continue;
        if (fgets(name, sizeof name, comm)) count += strncmp(name, "switchboard-io", 14) == 0;
        fclose(comm);
    }
    closedir(dir);
    return count;
}

static sb_server *start_inline(void) {
    sb_config *config = tc_config();
    CHECK_OK(sb_config_threads(config, 0));
    return tc_start(config);
}

struct tally {
    int opens, closes, messages;
};

/* Echoes every message, except that a text starting with "B:" goes to every client. */
static void serve(sb_server *server, const sb_event *events, size_t n, struct tally *t) {
    for (size_t i = 0; i < n; i++) {
        const sb_event *e = &events[i];
        if (e->kind == SB_EVENT_OPEN) {
            t->opens++;
            CHECK(io_threads() == 0);
        } else if (e->kind == SB_EVENT_CLOSE) {
            t->closes++;
            CHECK(e->close_code == 1000 && e->clean);
        } else {
            t->messages++;
            if (e->message_kind == SB_TEXT && tc_payload_starts(e, "B:"))
                CHECK_OK(sb_server_broadcast(server, SB_TEXT, e->data, e->len, 0));
            else
                CHECK_OK(sb_server_send(server, e->id, e->message_kind, e->data, e->len));
        }
    }
}

static void check_tally(const struct tally *t) {
    CHECK(t->opens == 2);
    CHECK(t->closes == 2);
    CHECK(t->messages == 53);
}

static void blocking_loop(void) {
    sb_server *server = start_inline();
    tc_client("inline", server, NULL);
    static sb_event events[64];
    struct tally t = {0};
    while (tc_running()) serve(server, events, tc_wait(server, events, 64), &t);
    CHECK(tc_client_passed());
    t.closes += tc_more_closes(server, 2 - t.closes);
    check_tally(&t);
    sb_server_free(server);
}

static void poll_loop(void) {
    sb_server *server = start_inline();
    int fd = -1;
    CHECK_OK(sb_server_event_fd(server, &fd));
    tc_client("inline", server, NULL);
    static sb_event events[64];
    struct tally t = {0};
    int wakeups = 0;
    while ((tc_running() || t.closes < 2) && tc_millis_left() > 0) {
        struct pollfd ready = {.fd = fd, .events = POLLIN};
        /* Timers advance only inside sb_server_wait: it runs at least every 50 ms. */
        wakeups += poll(&ready, 1, 50) > 0;
        size_t n = 0;
        CHECK_OK(sb_server_wait(server, events, 64, 0, &n));
        serve(server, events, n, &t);
    }
    CHECK(tc_client_passed());
    check_tally(&t);
    /* Each of the 50 round trips needed the descriptor: the 50 ms fallback was not it. */
    CHECK(wakeups >= 50);
    /* Everything taken: the descriptor is not readable. */
    size_t n = 0;
    CHECK_OK(sb_server_wait(server, events, 64, 0, &n));
    struct pollfd idle = {.fd = fd, .events = POLLIN};
    CHECK(poll(&idle, 1, 100) == 0);
    sb_server_free(server);
}

static void *shut_down(void *server) {
    CHECK_OK(sb_server_shutdown(server));
    return NULL;
}

static void shutdown_from_another_thread(void) {
    sb_server *server = start_inline();
    tc_client("shutdown", server, NULL);
    static sb_event events[64];
    int readies = 0;
    while (readies < 3 && tc_running()) {
        size_t n = tc_wait(server, events, 64);
        for (size_t i = 0; i < n; i++) readies += tc_payload_eq(&events[i], "ready");
    }
    CHECK(readies == 3);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, shut_down, server) == 0);
    int closes = 0;
    sb_result r;
    size_t n;
    while ((r = sb_server_wait(server, events, 64, -1, &n)) == SB_OK)
        for (size_t i = 0; i < n; i++) closes += events[i].kind == SB_EVENT_CLOSE;
    CHECK_RESULT(r, SB_ERR_SHUT_DOWN);
    pthread_join(thread, NULL);
    CHECK(closes == 3);
    CHECK(tc_client_passed());
    sb_server_free(server);
}

int main(void) {
    struct timespec pause = {0, 20 * 1000000};
    /* The count is a real check: a threaded server's I/O threads show (once they have
     * named themselves). */
    sb_server *threaded = tc_start(tc_config());
    for (int tries = 0; io_threads() != 2 && tries < 100; tries++) nanosleep(&pause, NULL);
    CHECK(io_threads() == 2);
    sb_server_free(threaded);

    blocking_loop();
    poll_loop();
    shutdown_from_another_thread();
    return tc_verdict("inline");
}
