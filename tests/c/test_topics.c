/* Topics: a connection joins the topic named by its path; messages "say:TEXT" go to
 * the others in the topic, "all:TEXT" to everyone in it, "leave" unsubscribes. */
#include "harness.h"

static void reply(sb_server *server, sb_conn_id id, const char *text) {
    CHECK_OK(sb_server_send(server, id, SB_TEXT, (const uint8_t *)text, strlen(text)));
}

/* The topic of a connection: its path. */
static void topic_of(sb_server *server, sb_conn_id id, char *topic, size_t size) {
    sb_conn_info *info = NULL;
    CHECK_OK(sb_server_info(server, id, &info));
    snprintf(topic, size, "%s", info ? info->path.ptr : "?");
    sb_conn_info_free(info);
}

int main(void) {
    sb_server *server = tc_start(tc_config());
    tc_client("topics", server, NULL);
    static sb_event events[256];
    int opens = 0;
    while (tc_running()) {
        size_t n = tc_wait(server, events, 256);
        for (size_t i = 0; i < n; i++) {
            const sb_event *e = &events[i];
            char topic[64], text[256];
            if (e->kind == SB_EVENT_OPEN) {
                opens++;
                CHECK_OK(sb_server_subscribe(server, e->id, e->open->path.ptr));
                /* Subscribing twice is harmless. */
                CHECK_OK(sb_server_subscribe(server, e->id, e->open->path.ptr));
                reply(server, e->id, "joined");
            } else if (e->kind != SB_EVENT_MESSAGE) {
                continue;
            } else if (tc_payload_eq(e, "ping")) {
                reply(server, e->id, "pong");
            } else if (tc_payload_eq(e, "leave")) {
                topic_of(server, e->id, topic, sizeof topic);
                CHECK_OK(sb_server_unsubscribe(server, e->id, topic));
                CHECK_OK(sb_server_unsubscribe(server, e->id, "/never-joined"));
                reply(server, e->id, "left");
            } else if (tc_payload_starts(e, "say:") || tc_payload_starts(e, "all:")) {
                bool all = tc_payload_starts(e, "all:");
                topic_of(server, e->id, topic, sizeof topic);
                snprintf(text, sizeof text, "%.*s", (int)e->len - 4, (const char *)e->data + 4);
                CHECK_OK(sb_server_publish(server, topic, SB_TEXT, (const uint8_t *)text,
                                           strlen(text), all ? 0 : e->id));
                CHECK_OK(sb_server_publish(server, "/nobody-here", SB_TEXT,
                                           (const uint8_t *)text, strlen(text), 0));
            } else {
                CHECK(!"unexpected message");
            }
        }
    }
    CHECK(tc_client_passed());
    CHECK(opens == 3);
    CHECK_RESULT(sb_server_publish(server, NULL, SB_TEXT, (const uint8_t *)"x", 1, 0), SB_ERR_NULL);
    CHECK_RESULT(sb_server_publish(server, "/red", 0, (const uint8_t *)"x", 1, 0),
                 SB_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(sb_server_publish(server, "/red", SB_TEXT, (const uint8_t *)"\xc3", 1, 0),
                 SB_ERR_INVALID_UTF8);
    CHECK_RESULT(sb_server_subscribe(server, 1, "/red"), SB_ERR_UNKNOWN_CONNECTION);
    sb_server_free(server);
    return tc_verdict("topics");
}
