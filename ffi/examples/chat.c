/* Chat server: rooms are topics. Connect to ws://HOST:PORT/ROOM?name=NAME; every text
 * message is published as "NAME: text" to everyone in ROOM (the sender included), and
 * joins are announced. A handshake without a room or a valid name is refused with 400.
 *
 *   cc -O2 -o chat chat.c $(pkg-config --cflags --libs switchboard)
 *   ./chat --listen 127.0.0.1:9002
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <switchboard.h>

#define BATCH 256
#define LINE 4096

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

/* Copies the value of "name=" from the query into name (1-32 of [A-Za-z0-9_-]);
 * 0 on success. */
static int name_from_query(const char *query, char name[33]) {
    const char *p = strstr(query, "name=");
    if (!p || (p != query && p[-1] != '&')) return -1;
    p += 5;
    size_t len = strcspn(p, "&");
    if (len == 0 || len > 32) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return -1;
    }
    memcpy(name, p, len);
    name[len] = '\0';
    return 0;
}

static void say(sb_server *server, const char *room, const char *text, size_t len) {
    sb_server_publish(server, room, SB_TEXT, (const uint8_t *)text, len, 0);
}

/* A pending handshake: accept it bound to its name and subscribed to its room. */
static void on_open(sb_server *server, sb_conn_id id, const sb_open *open) {
    char name[33], line[LINE];
    if (open->path.len < 2 || open->path.len > 64 || name_from_query(open->query.ptr, name)) {
        sb_server_reject(server, id, 400, "connect to /ROOM?name=NAME\n");
        return;
    }
    sb_accept accept = {.user = name};
    if (sb_server_accept(server, id, &accept) != SB_OK) return; /* client gone meanwhile */
    const char *room = open->path.ptr;
    sb_server_subscribe(server, id, room);
    int len = snprintf(line, sizeof line, "* %s joined %s", name, room + 1);
    say(server, room, line, (size_t)len);
}

/* A message: who sent it and their room come from the connection's info. */
static void on_message(sb_server *server, const sb_event *e) {
    if (e->message_kind != SB_TEXT) {
        sb_server_close(server, e->id, 1003, "text messages only");
        return;
    }
    sb_conn_info *info;
    if (sb_server_info(server, e->id, &info) != SB_OK) return;
    char line[LINE];
    int len = snprintf(line, sizeof line, "%s: %.*s", info->user.ptr, (int)e->len,
                       (const char *)e->data);
    if (len >= (int)sizeof line) len = (int)sizeof line - 1; /* long lines are cut */
    say(server, info->path.ptr, line, (size_t)len);
    sb_conn_info_free(info);
}

int main(int argc, char **argv) {
    const char *listen = argc == 3 && !strcmp(argv[1], "--listen") ? argv[2] : "127.0.0.1:9002";
    if (argc != 1 && argc != 3) {
        fprintf(stderr, "usage: chat [--listen ADDR]\n");
        return 2;
    }
    sigset_t signals, old;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sb_config *config;
    sb_server *server = NULL;
    sb_result r = sb_config_new(&config);
    if (r == SB_OK) r = sb_config_listen(config, listen);
    if (r == SB_OK) r = sb_config_authorize(config, true);
    if (r == SB_OK) r = sb_config_max_message_size(config, LINE - 64);
    sigprocmask(SIG_BLOCK, &signals, &old); /* the server's threads leave signals to us */
    if (r == SB_OK) r = sb_server_start(config, &server);
    sigprocmask(SIG_SETMASK, &old, NULL);
    sb_config_free(config);
    if (r != SB_OK) {
        fprintf(stderr, "chat: %s: %s\n", sb_result_name(r), sb_last_error_message());
        return 1;
    }
    const char *addr;
    sb_server_addr(server, 0, &addr, NULL);
    printf("listening on %s\n", addr);
    fflush(stdout);

    static sb_event events[BATCH];
    size_t n;
    while (!stop && sb_server_wait(server, events, BATCH, 100, &n) == SB_OK) {
        for (size_t i = 0; i < n; i++) {
            if (events[i].kind == SB_EVENT_OPEN) on_open(server, events[i].id, events[i].open);
            if (events[i].kind == SB_EVENT_MESSAGE) on_message(server, &events[i]);
        }
    }
    sb_server_free(server); /* shuts down gracefully first */
    return 0;
}
