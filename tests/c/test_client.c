/* The control client (sb_client_*) against this process's own server, opened with
 * sb_config_control: a WebSocket client (clients.py "control_client") is subscribed, bound,
 * sent to and closed only through the control socket. Then misuse: a bad address, a missing
 * socket, a wrong secret over TCP, a server that is gone: each a clear error. */
#include "harness.h" /* first: it sets _POSIX_C_SOURCE */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64], sock[96], address[128];

#define BYTES(s) (const uint8_t *)(s), strlen(s)

static bool message_has(const char *part) {
    return strstr(sb_last_error_message(), part) != NULL;
}

/* Every command, with the WebSocket client `id`, in the order the client expects. */
static void drive(sb_client *c, sb_conn_id id) {
    CHECK_OK(sb_client_subscribe(c, id, "news"));
    CHECK_OK(sb_client_bind_user(c, id, "ann"));
    CHECK_OK(sb_client_publish(c, "news", SB_TEXT, BYTES("skipped"), id)); /* excepted */
    CHECK_OK(sb_client_publish(c, "news", SB_TEXT, BYTES("published"), 0));
    CHECK_OK(sb_client_publish(c, "nobody-here", SB_TEXT, BYTES("x"), 0));
    size_t count = 99;
    CHECK_OK(sb_client_send_to_user(c, "ann", SB_TEXT, BYTES("to ann"), &count));
    CHECK(count == 1);
    sb_conn_id ids[4] = {0};
    CHECK_RESULT(sb_client_user_connections(c, "ann", NULL, 0, &count), SB_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 1);
    CHECK_OK(sb_client_user_connections(c, "ann", ids, 4, &count));
    CHECK(count == 1 && ids[0] == id);
    CHECK_OK(sb_client_send(c, id, SB_TEXT, BYTES("direct")));
    CHECK_OK(sb_client_broadcast(c, SB_BINARY, (const uint8_t *)"\x00\xff", 2, 0));
    sb_stats stats;
    memset(&stats, 0xff, sizeof stats);
    CHECK_OK(sb_client_stats(c, &stats));
    /* The loop sends what the commands queued on its own time: wait until it has. */
    for (int i = 0; i < 200 && stats.messages_out < 3; i++) {
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
        CHECK_OK(sb_client_stats(c, &stats));
    }
    CHECK(stats.connections == 1 && stats.accepted >= 1 && stats.messages_out >= 3);
    CHECK(stats.closed_by.shutdown == 0);
    CHECK_OK(sb_client_unsubscribe(c, id, "news"));
    CHECK_OK(sb_client_unbind_user(c, id));
    CHECK_OK(sb_client_send_to_user(c, "ann", SB_TEXT, BYTES("nobody"), &count));
    CHECK(count == 0);

    /* What the server refuses, and arguments refused here. */
    CHECK_RESULT(sb_client_send(c, id + 1000, SB_TEXT, BYTES("x")), SB_ERR_UNKNOWN_CONNECTION);
    CHECK(message_has(sock));
    CHECK_RESULT(sb_client_send(c, id, SB_TEXT, BYTES("\xff")), SB_ERR_INVALID_ARGUMENT);
    CHECK(message_has("UTF-8"));
    CHECK_RESULT(sb_client_close(c, id, 999, NULL), SB_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(sb_client_send(c, id, 7, BYTES("x")), SB_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(sb_client_publish(c, NULL, SB_TEXT, BYTES("x"), 0), SB_ERR_NULL);
    CHECK_RESULT(sb_client_user_connections(c, "ann", NULL, 0, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_client_stats(c, NULL), SB_ERR_NULL);
    CHECK_RESULT(sb_client_stats(NULL, &stats), SB_ERR_NULL);

    CHECK_OK(sb_client_close(c, id, 4000, "bye"));
}

/* A TCP port that was free a moment ago. */
static uint16_t free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void misuse(void) {
    sb_client *c = NULL;
    CHECK_RESULT(sb_client_new("/no/scheme.sock", NULL, 0, &c), SB_ERR_INVALID_ARGUMENT);
    CHECK(c == NULL && message_has("unix:/path"));
    CHECK_RESULT(sb_client_new(NULL, NULL, 0, &c), SB_ERR_NULL);
    CHECK_RESULT(sb_client_new("unix:/x", NULL, 0, NULL), SB_ERR_NULL);

    char missing[160];
    snprintf(missing, sizeof missing, "unix:%s/missing.sock", dir);
    CHECK_OK(sb_client_new(missing, NULL, 500, &c));
    CHECK_RESULT(sb_client_publish(c, "t", SB_TEXT, BYTES("x"), 0), SB_ERR_UNREACHABLE);
    CHECK(message_has("missing.sock") && message_has("cannot connect"));
    sb_client_free(c);

    /* TCP needs the secret. */
    char tcp[64];
    snprintf(tcp, sizeof tcp, "tcp:127.0.0.1:%u", (unsigned)free_port());
    sb_config *config = tc_config();
    CHECK_OK(sb_config_control(config, tcp));
    CHECK_OK(sb_config_control_secret(config, "s3cret"));
    sb_server *server = tc_start(config);
    CHECK_OK(sb_client_new(tcp, "wrong", 2000, &c));
    CHECK_RESULT(sb_client_broadcast(c, SB_TEXT, BYTES("x"), 0), SB_ERR_UNAUTHORIZED);
    CHECK(message_has("wrong secret"));
    sb_client_free(c);
    CHECK_OK(sb_client_new(tcp, "s3cret", 2000, &c));
    CHECK_OK(sb_client_broadcast(c, SB_TEXT, BYTES("x"), 0));
    /* The server goes: the kept connection is found closed, and nothing listens. */
    sb_server_free(server);
    sb_result r = sb_client_broadcast(c, SB_TEXT, BYTES("x"), 0);
    CHECK(r == SB_ERR_UNREACHABLE);
    CHECK(message_has(tcp));
    sb_client_free(c);
    sb_client_free(NULL);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/sb-c-client-%d", (int)getpid());
    snprintf(sock, sizeof sock, "%s/ctl.sock", dir);
    snprintf(address, sizeof address, "unix:%s", sock);
    CHECK(mkdir(dir, 0700) == 0);
    sb_config *config = tc_config();
    CHECK_OK(sb_config_control(config, address));
    sb_server *server = tc_start(config);
    tc_client("control_client", server, NULL);
    sb_client *c = NULL;
    CHECK_OK(sb_client_new(address, NULL, 5000, &c));
    static sb_event events[64];
    int opens = 0, closes = 0;
    while (tc_running()) {
        size_t n = tc_wait(server, events, 64);
        for (size_t i = 0; i < n; i++) {
            if (events[i].kind == SB_EVENT_OPEN && opens++ == 0) drive(c, events[i].id);
            closes += events[i].kind == SB_EVENT_CLOSE;
        }
    }
    CHECK(tc_client_passed());
    closes += tc_more_closes(server, 1 - closes);
    CHECK(opens == 1 && closes == 1);
    sb_client_free(c);
    sb_server_free(server);
    misuse();
    rmdir(dir);
    return tc_verdict("client");
}
