/* Per-loop serving (sb_config_per_loop, sb_server_run): three loops each call the handler on
 * their own thread, with per-loop state from the init callback. Replies from inside a
 * handler, order per connection, publish / broadcast / send_to_user across loops, every
 * event of a connection on one loop, and a shutdown from a handler that ends sb_server_run. */
#include "harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define LOOPS 3
#define MAX_CONNS 64

struct loop_state {
    sb_server *server;
    size_t index;
    int events, busy;
};

static struct loop_state loops[LOOPS];
static int inits;

/* Which loop each connection's events came to; a second loop is a violation. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static sb_conn_id seen_ids[MAX_CONNS];
static size_t seen_loops[MAX_CONNS];
static int seen_count, violations;

static void note_loop(sb_conn_id id, size_t index) {
    pthread_mutex_lock(&seen_lock);
    int i = 0;
    while (i < seen_count && seen_ids[i] != id) i++;
    if (i == seen_count && seen_count < MAX_CONNS) {
        seen_ids[i] = id;
        seen_loops[i] = index;
        seen_count++;
    } else if (i < seen_count && seen_loops[i] != index) {
        violations++;
    }
    pthread_mutex_unlock(&seen_lock);
}

static void *init(size_t index, void *server) {
    CHECK(index < LOOPS);
    __atomic_fetch_add(&inits, 1, __ATOMIC_RELAXED);
    loops[index] = (struct loop_state){.server = server, .index = index};
    return &loops[index];
}

static void reply(struct loop_state *s, sb_conn_id id, const char *text) {
    CHECK_OK(sb_server_send(s->server, id, SB_TEXT, (const uint8_t *)text, strlen(text)));
}

/* seq:N and echo:X come back (echo: stripped); "loop" answers the loop's index; pub:X
 * publishes X to "all", bcast:X broadcasts it, user:X sends X to the user "ann" and
 * answers n=COUNT; "shutdown" shuts the server down. A client on /user is "ann". */
static void handle(const sb_event *e, void *user) {
    struct loop_state *s = user;
    s->events++;
    note_loop(e->id, s->index);
    if (e->kind == SB_EVENT_OPEN) {
        CHECK_OK(sb_server_subscribe(s->server, e->id, "all"));
        if (tc_str_eq(e->open->path, "/user")) CHECK_OK(sb_server_bind_user(s->server, e->id, "ann"));
        s->busy += sb_server_run(s->server, handle, NULL, NULL) == SB_ERR_BUSY;
        return;
    }
    if (e->kind != SB_EVENT_MESSAGE) return;
    char text[256];
    size_t len = e->len < sizeof text - 1 ? e->len : sizeof text - 1;
    memcpy(text, e->data, len);
    text[len] = 0;
    const uint8_t *rest = (const uint8_t *)strchr(text, ':');
    size_t rest_len = rest ? len - (size_t)(rest - (const uint8_t *)text) - 1 : 0;
    if (rest) rest++;
    if (strncmp(text, "seq:", 4) == 0) {
        reply(s, e->id, text);
    } else if (strncmp(text, "echo:", 5) == 0) {
        CHECK_OK(sb_server_send(s->server, e->id, SB_TEXT, rest, rest_len));
    } else if (strcmp(text, "loop") == 0) {
        char answer[8];
        snprintf(answer, sizeof answer, "%zu", s->index);
        reply(s, e->id, answer);
    } else if (strncmp(text, "pub:", 4) == 0) {
        CHECK_OK(sb_server_publish(s->server, "all", SB_TEXT, rest, rest_len, 0));
    } else if (strncmp(text, "bcast:", 6) == 0) {
        CHECK_OK(sb_server_broadcast(s->server, SB_TEXT, rest, rest_len, 0));
    } else if (strncmp(text, "user:", 5) == 0) {
        size_t n = 0;
        CHECK_OK(sb_server_send_to_user(s->server, "ann", SB_TEXT, rest, rest_len, &n));
        char answer[16];
        snprintf(answer, sizeof answer, "n=%zu", n);
        reply(s, e->id, answer);
    } else if (strcmp(text, "shutdown") == 0) {
        CHECK_OK(sb_server_shutdown(s->server));
    } else {
        CHECK(!"unknown message");
    }
}

int main(void) {
    sb_config *config = tc_config();
    CHECK_OK(sb_config_threads(config, LOOPS));
    CHECK_OK(sb_config_per_loop(config, true));
    sb_server *server = tc_start(config);
    tc_client("per_loop", server, NULL);
    /* Returns once a handler has shut the server down and every event was handled. */
    CHECK_OK(sb_server_run(server, handle, init, server));
    while (tc_running()) nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    CHECK(tc_client_passed());
    CHECK(inits == LOOPS);
    CHECK(violations == 0);
    CHECK(seen_count == 7);
    int busy = 0;
    for (int i = 0; i < LOOPS; i++) {
        CHECK(loops[i].events > 0);
        busy += loops[i].busy;
    }
    CHECK(busy == 7);
    CHECK_RESULT(sb_server_run(server, handle, init, server), SB_OK);
    sb_server_free(server);
    return tc_verdict("per_loop");
}
