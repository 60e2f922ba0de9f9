/* Misuse: NULL handles and out-parameters, bad arguments, invalid configurations, stale
 * and made-up ids, oversize messages from a client. Every one is an error code. */
#include "harness.h"

#include <pthread.h>
#include <stdlib.h>

static const uint8_t *X = (const uint8_t *)"x";

static void null_handles(void) {
    sb_event events[1];
    size_t n;
    const char *addr;
    int fd;
    sb_stats stats;
    sb_conn_info *info;
    sb_str value;
    CHECK_RESULT(sb_config_new(NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_config_listen(NULL, "127.0.0.1:0"), SB_ERR_NULL);
    CHECK_RESULT(sb_config_threads(NULL, 1), SB_ERR_NULL);
    CHECK_RESULT(sb_config_authorize(NULL, true), SB_ERR_NULL);
    CHECK_RESULT(sb_config_event_queue(NULL, 1, 1), SB_ERR_NULL);
    CHECK_RESULT(sb_server_start(NULL, NULL), SB_ERR_NULL);
    CHECK(sb_server_addr_count(NULL) == 0);
    CHECK_RESULT(sb_server_addr(NULL, 0, &addr, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_event_fd(NULL, &fd), SB_ERR_NULL);
    CHECK_RESULT(sb_server_wait(NULL, events, 1, 0, &n), SB_ERR_NULL);
    CHECK_RESULT(sb_server_send(NULL, 1, SB_TEXT, X, 1), SB_ERR_NULL);
    CHECK_RESULT(sb_server_close(NULL, 1, 1000, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_broadcast(NULL, SB_TEXT, X, 1, 0), SB_ERR_NULL);
    CHECK_RESULT(sb_server_flush(NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_subscribe(NULL, 1, "t"), SB_ERR_NULL);
    CHECK_RESULT(sb_server_unsubscribe(NULL, 1, "t"), SB_ERR_NULL);
    CHECK_RESULT(sb_server_publish(NULL, "t", SB_TEXT, X, 1, 0), SB_ERR_NULL);
    CHECK_RESULT(sb_server_bind_user(NULL, 1, "u"), SB_ERR_NULL);
    CHECK_RESULT(sb_server_unbind_user(NULL, 1), SB_ERR_NULL);
    CHECK_RESULT(sb_server_send_to_user(NULL, "u", SB_TEXT, X, 1, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_user_connections(NULL, "u", NULL, 0, &n), SB_ERR_NULL);
    CHECK_RESULT(sb_server_info(NULL, 1, &info), SB_ERR_NULL);
    CHECK_RESULT(sb_server_stats(NULL, &stats), SB_ERR_NULL);
    CHECK_RESULT(sb_server_accept(NULL, 1, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_reject(NULL, 1, 403, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_shutdown(NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_open_header(NULL, "x", &value), SB_ERR_NULL);
    CHECK(strcmp(sb_last_error_message(), "open is NULL") == 0);
    sb_server_free(NULL);
    sb_config_free(NULL);
    sb_conn_info_free(NULL);
}

/* Starting with this config fails with SB_ERR_CONFIG naming `option`; frees the config. */
static void refused(sb_config *config, const char *option, int line) {
    sb_server *server = NULL;
    sb_result r = sb_server_start(config, &server);
    tc_check_result(r, SB_ERR_CONFIG, "sb_server_start", __FILE__, line);
    tc_check(server == NULL, "server untouched", __FILE__, line);
    tc_check(strstr(sb_last_error_message(), option) != NULL, option, __FILE__, line);
    sb_config_free(config);
}

static sb_config *fresh(void) {
    sb_config *config = NULL;
    CHECK_OK(sb_config_new(&config));
    CHECK_OK(sb_config_listen(config, "127.0.0.1:0"));
    return config;
}

static void bad_configs(void) {
    sb_config *config = NULL;
    CHECK_OK(sb_config_new(&config));
    CHECK_RESULT(sb_config_listen(config, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_config_listen(config, "nonsense"), SB_ERR_CONFIG);
    CHECK(strstr(sb_last_error_message(), "nonsense") != NULL);
    CHECK_RESULT(sb_config_listen(config, "localhost:80"), SB_ERR_CONFIG);
    CHECK_RESULT(sb_config_subprotocol(config, "\xff\xfe"), SB_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(sb_config_no_matching_subprotocol(config, 7), SB_ERR_INVALID_ARGUMENT);
    CHECK_OK(sb_config_no_matching_subprotocol(config, SB_NO_MATCH_REJECT));
    refused(config, "listen", __LINE__);

    config = fresh();
    CHECK_OK(sb_config_threads(config, 256));
    refused(config, "threads", __LINE__);
    config = fresh();
    CHECK_OK(sb_config_idle_timeout_ms(config, 1000));
    CHECK_OK(sb_config_ping_interval_ms(config, 2000));
    refused(config, "ping_interval", __LINE__);
    config = fresh();
    CHECK_OK(sb_config_subprotocol(config, "two words"));
    refused(config, "subprotocols", __LINE__);
    config = fresh();
    CHECK_OK(sb_config_static_dir(config, "/nonexistent/dir"));
    refused(config, "static_dir", __LINE__);
    config = fresh();
    CHECK_OK(sb_config_event_queue(config, 0, 0));
    refused(config, "event_queue", __LINE__);
    config = fresh();
    CHECK_OK(sb_config_max_buffered(config, 10));
    refused(config, "max_buffered", __LINE__);
    config = fresh();
    CHECK_OK(sb_config_max_message_size(config, 0));
    refused(config, "max_message_size", __LINE__);
    config = fresh();
    CHECK_OK(sb_config_handshake_timeout_ms(config, 0));
    refused(config, "handshake_timeout", __LINE__);
}

static void names_and_version(void) {
    CHECK(strcmp(sb_result_name(SB_OK), "SB_OK") == 0);
    CHECK(strcmp(sb_result_name(SB_ERR_NULL), "SB_ERR_NULL") == 0);
    CHECK(strcmp(sb_result_name(SB_ERR_SHUT_DOWN), "SB_ERR_SHUT_DOWN") == 0);
    CHECK(strcmp(sb_result_name(SB_ERR_PANIC), "SB_ERR_PANIC") == 0);
    CHECK(strcmp(sb_result_name(12345), "SB_UNKNOWN_RESULT") == 0);
    const char *version = sb_version();
    CHECK(version && strspn(version, "0123456789.") >= 5 && strchr(version, '.'));
}

/* The last error message belongs to the thread. */
static void *other_thread(void *unused) {
    (void)unused;
    CHECK(strcmp(sb_last_error_message(), "") == 0);
    CHECK_RESULT(sb_server_stats(NULL, NULL), SB_ERR_NULL);
    CHECK(strcmp(sb_last_error_message(), "server is NULL") == 0);
    return NULL;
}

static void thread_local_messages(void) {
    CHECK_RESULT(sb_config_threads(NULL, 1), SB_ERR_NULL);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, other_thread, NULL) == 0);
    pthread_join(thread, NULL);
    CHECK(strcmp(sb_last_error_message(), "config is NULL") == 0);
}

static void stale_ids(sb_server *server, sb_conn_id id) {
    sb_conn_info *info = NULL;
    CHECK_RESULT(sb_server_send(server, id, SB_TEXT, X, 1), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_send(server, id, SB_TEXT, NULL, 0), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_close(server, id, 1000, "x"), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_subscribe(server, id, "t"), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_unsubscribe(server, id, "t"), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_bind_user(server, id, "u"), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_unbind_user(server, id), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_info(server, id, &info), SB_ERR_UNKNOWN_CONNECTION);
    CHECK(info == NULL);
    CHECK_RESULT(sb_server_accept(server, id, NULL), SB_ERR_UNKNOWN_CONNECTION);
    CHECK_RESULT(sb_server_reject(server, id, 403, "no"), SB_ERR_UNKNOWN_CONNECTION);
}

/* Calls on a live, accepted connection that must be refused. */
static void bad_calls(sb_server *server, sb_conn_id id) {
    sb_event events[1];
    size_t n;
    const char *addr = NULL;
    CHECK_RESULT(sb_server_send(server, id, 7, X, 1), SB_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(sb_server_send(server, id, SB_TEXT, (const uint8_t *)"\xff\xfe", 2),
                 SB_ERR_INVALID_UTF8);
    CHECK_RESULT(sb_server_send(server, id, SB_BINARY, NULL, 5), SB_ERR_NULL);
    CHECK_RESULT(sb_server_accept(server, id, NULL), SB_ERR_NOT_PENDING);
    CHECK_RESULT(sb_server_reject(server, id, 403, NULL), SB_ERR_NOT_PENDING);
    CHECK_RESULT(sb_server_subscribe(server, id, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_subscribe(server, id, "\xc3"), SB_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(sb_server_wait(server, NULL, 1, 0, &n), SB_ERR_NULL);
    CHECK_RESULT(sb_server_wait(server, events, 1, 0, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_wait(server, events, 0, 0, &n), SB_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(sb_server_addr(server, 0, NULL, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_addr(server, 1, &addr, NULL), SB_ERR_INVALID_ARGUMENT);
    CHECK(addr == NULL);
    CHECK_RESULT(sb_server_event_fd(server, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_info(server, id, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_stats(server, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_server_user_connections(server, "u", NULL, 0, NULL), SB_ERR_NULL);
}

/* A second server on the same address cannot bind it. */
static void address_in_use(const sb_server *server) {
    const char *addr = NULL;
    CHECK_OK(sb_server_addr(server, 0, &addr, NULL));
    sb_config *config = NULL;
    CHECK_OK(sb_config_new(&config));
    CHECK_OK(sb_config_listen(config, addr));
    sb_server *second = NULL;
    CHECK_RESULT(sb_server_start(config, &second), SB_ERR_IO);
    CHECK(second == NULL);
    sb_config_free(config);
}

int main(void) {
    null_handles();
    bad_configs();
    names_and_version();
    thread_local_messages();
    sb_config *config = tc_config();
    CHECK_OK(sb_config_max_message_size(config, 1024));
    sb_server *server = tc_start(config);
    CHECK(sb_server_addr_count(server) == 1);
    address_in_use(server);
    stale_ids(server, 0);
    stale_ids(server, 12345);
    stale_ids(server, UINT64_MAX);
    tc_client("misuse", server, NULL);
    static sb_event events[64];
    int opens = 0, closes = 0, messages = 0;
    while (tc_running()) {
        size_t n = tc_wait(server, events, 64);
        for (size_t i = 0; i < n; i++) {
            const sb_event *e = &events[i];
            if (e->kind == SB_EVENT_OPEN) {
                opens++;
                bad_calls(server, e->id);
            } else if (e->kind == SB_EVENT_MESSAGE) {
                messages++;
                CHECK(e->len <= 1024);
                CHECK_OK(sb_server_send(server, e->id, e->message_kind, e->data, e->len));
            } else {
                closes++;
                if (closes == 1) CHECK(e->close_code == 1009); /* the oversize message */
                stale_ids(server, e->id);
            }
        }
    }
    CHECK(tc_client_passed());
    closes += tc_more_closes(server, 2 - closes);
    CHECK(opens == 2);
    CHECK(messages == 2);
    CHECK(closes == 2);
    sb_stats stats;
    CHECK_OK(sb_server_stats(server, &stats));
    CHECK(stats.closed_by.protocol_error == 1);
    sb_server_free(server);
    return tc_verdict("misuse");
}
