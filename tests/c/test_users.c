/* Users: connections bound at accept time (query "user=NAME") or later ("bind:NAME"),
 * messages to a user reach all its connections ("to:USER:TEXT"), "unbind", "count:USER". */
#include "harness.h"

static void reply(sb_server *server, sb_conn_id id, const char *text) {
    CHECK_OK(sb_server_send(server, id, SB_TEXT, (const uint8_t *)text, strlen(text)));
}

/* Copies the message after a prefix of `skip` bytes. */
static void rest(const sb_event *e, size_t skip, char *out, size_t size) {
    snprintf(out, size, "%.*s", (int)(e->len - skip), (const char *)e->data + skip);
}

static void on_open(sb_server *server, const sb_event *e, sb_conn_id alice[2], int *alices) {
    CHECK(e->open->pending);
    const char *query = e->open->query.ptr;
    if (strncmp(query, "user=", 5) == 0) {
        sb_accept accept = {.user = query + 5};
        CHECK_OK(sb_server_accept(server, e->id, &accept));
        if (strcmp(query + 5, "alice") == 0 && *alices < 2) alice[(*alices)++] = e->id;
        sb_conn_info *info = NULL;
        CHECK_OK(sb_server_info(server, e->id, &info));
        CHECK(info && tc_str_eq(info->user, query + 5));
        sb_conn_info_free(info);
    } else {
        CHECK_OK(sb_server_accept(server, e->id, NULL));
    }
    reply(server, e->id, "welcome");
}

static void on_message(sb_server *server, const sb_event *e, const sb_conn_id alice[2]) {
    char text[256], line[300];
    if (tc_payload_eq(e, "ping")) {
        reply(server, e->id, "pong");
    } else if (tc_payload_starts(e, "to:")) {
        rest(e, 3, text, sizeof text);
        char *colon = strchr(text, ':');
        if (!colon) return;
        *colon = '\0';
        size_t sent = 99;
        CHECK_OK(sb_server_send_to_user(server, text, SB_TEXT, (const uint8_t *)colon + 1,
                                        strlen(colon + 1), &sent));
        snprintf(line, sizeof line, "sent:%zu", sent);
        reply(server, e->id, line);
    } else if (tc_payload_starts(e, "bind:")) {
        rest(e, 5, text, sizeof text);
        CHECK_OK(sb_server_bind_user(server, e->id, text));
        reply(server, e->id, "bound");
    } else if (tc_payload_eq(e, "unbind")) {
        CHECK_OK(sb_server_unbind_user(server, e->id));
        CHECK_OK(sb_server_unbind_user(server, e->id)); /* no binding: no error */
        reply(server, e->id, "unbound");
    } else if (tc_payload_starts(e, "count:")) {
        rest(e, 6, text, sizeof text);
        sb_conn_id ids[4] = {0};
        size_t count = 0;
        CHECK_RESULT(sb_server_user_connections(server, text, ids, 1, &count),
                     SB_ERR_BUFFER_TOO_SMALL);
        CHECK(count == 2 && ids[0] == 0);
        CHECK_RESULT(sb_server_user_connections(server, text, NULL, 0, &count),
                     SB_ERR_BUFFER_TOO_SMALL);
        CHECK(count == 2);
        CHECK_OK(sb_server_user_connections(server, text, ids, 4, &count));
        CHECK(count == 2);
        CHECK((ids[0] == alice[0] && ids[1] == alice[1]) ||
              (ids[0] == alice[1] && ids[1] == alice[0]));
        snprintf(line, sizeof line, "count:%zu", count);
        reply(server, e->id, line);
    }
}

int main(void) {
    sb_config *config = tc_config();
    CHECK_OK(sb_config_authorize(config, true));
    sb_server *server = tc_start(config);
    tc_client("users", server, NULL);
    static sb_event events[256];
    sb_conn_id alice[2] = {0, 0};
    int alices = 0, closes = 0;
    while (tc_running()) {
        size_t n = tc_wait(server, events, 256);
        for (size_t i = 0; i < n; i++) {
            const sb_event *e = &events[i];
            if (e->kind == SB_EVENT_OPEN) on_open(server, e, alice, &alices);
            if (e->kind == SB_EVENT_MESSAGE) on_message(server, e, alice);
            closes += e->kind == SB_EVENT_CLOSE;
        }
    }
    CHECK(tc_client_passed());
    closes += tc_more_closes(server, 4 - closes);
    CHECK(alices == 2);
    CHECK(closes == 4);
    /* Bindings end with their connections. */
    size_t count = 99;
    CHECK_OK(sb_server_user_connections(server, "alice", NULL, 0, &count));
    CHECK(count == 0);
    CHECK_OK(sb_server_send_to_user(server, "alice", SB_TEXT, (const uint8_t *)"x", 1, NULL));
    CHECK_RESULT(sb_server_bind_user(server, alice[0], "alice"), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_bind_user(server, alice[0], NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_send_to_user(server, NULL, SB_TEXT, NULL, 0, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_user_connections(server, "alice", NULL, 3, &count), SB_ERR_NULL);
    sb_server_free(server);
    return tc_verdict("users");
}
