/* Echo server: every message comes back with its kind, except that a text message
 * starting with "B:" is broadcast unchanged to every client (the sender included).
 * Takes the same flags as the Rust echo example and prints "listening on ADDR..." first;
 * SIGINT/SIGTERM shut it down gracefully (clients receive 1001). --threads N (default: one
 * per core): every loop calls the handler on its own thread; 0: one loop, on this thread.
 *
 *   cc -O2 -o echo echo.c $(pkg-config --cflags --libs switchboard)
 *   ./echo --listen 127.0.0.1:9001
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <switchboard.h>

static const char *usage =
    "usage: echo [--listen ADDR]... [--threads N] [--max-message-size BYTES] "
    "[--max-buffered BYTES] [--handshake-timeout SECS] [--idle-timeout SECS] "
    "[--ping-interval SECS] [--close-timeout SECS] [--subprotocol NAME]... "
    "[--allow-origin PATTERN]... [--max-connections N] [--static-dir DIR] [--reuse-port] "
    "[--tls-cert FILE --tls-key FILE] (ADDR: IP:PORT, or tls://IP:PORT for TLS)";

/* SIGINT and SIGTERM stop; SIGHUP reads the TLS files again. */
static volatile sig_atomic_t stop, reload;
static void on_signal(int sig) { if (sig == SIGHUP) reload = 1; else stop = 1; }
static const char *tls_cert;
static int inline_mode; /* --threads 0 */

/* Acts on SIGHUP; nonzero once a signal asked to stop. */
static int signalled(sb_server *server) {
    if (reload && !(reload = 0) && sb_server_reload_tls(server) != SB_OK)
        fprintf(stderr, "echo: %s\n", sb_last_error_message());
    return stop;
}
static void *watch(void *server) { /* per-loop serving: a thread for the signals */
    while (!signalled(server)) nanosleep(&(struct timespec){0, 100 * 1000000}, NULL);
    sb_server_shutdown(server);
    return NULL;
}

/* Echoes a message; a text starting with "B:" goes to every client. A send can only fail
 * for a connection that closed meanwhile. */
static void on_event(const sb_event *e, void *server) {
    if (e->kind != SB_EVENT_MESSAGE) return;
    if (e->message_kind == SB_TEXT && e->len >= 2 && memcmp(e->data, "B:", 2) == 0)
        sb_server_broadcast(server, SB_TEXT, e->data, e->len, 0);
    else
        sb_server_send(server, e->id, e->message_kind, e->data, e->len);
}

/* Parses a whole number or seconds (as milliseconds); 0 on success. */
static int number(const char *text, size_t *n) {
    char *end;
    *n = (size_t)strtoull(text, &end, 10);
    return *text == '\0' || *end != '\0' || *text == '-';
}
static int millis(const char *text, uint64_t *ms) {
    char *end;
    double secs = strtod(text, &end);
    *ms = (uint64_t)(secs * 1000.0 + 0.5);
    return *text == '\0' || *end != '\0' || !(secs >= 0 && secs < 1e12);
}

/* Applies one flag with a value; 0 on success, -1 for a bad flag or number. */
static int apply(sb_config *c, const char *flag, const char *v, sb_result *r) {
    size_t n = 0;
    uint64_t ms = 0;
    if (!strcmp(flag, "--listen")) *r = sb_config_listen(c, v);
    else if (!strcmp(flag, "--subprotocol")) *r = sb_config_subprotocol(c, v);
    else if (!strcmp(flag, "--allow-origin")) *r = sb_config_allow_origin(c, v);
    else if (!strcmp(flag, "--static-dir")) *r = sb_config_static_dir(c, v);
    else if (!strcmp(flag, "--tls-cert")) tls_cert = v;
    else if (!strcmp(flag, "--tls-key")) *r = sb_config_tls(c, tls_cert, v); /* cert first */
    else if (!strcmp(flag, "--threads")) *r = number(v, &n) ? SB_ERR_INVALID_ARGUMENT : (inline_mode = !n, sb_config_threads(c, n));
    else if (!strcmp(flag, "--max-message-size")) *r = number(v, &n) ? SB_ERR_INVALID_ARGUMENT : sb_config_max_message_size(c, n);
    else if (!strcmp(flag, "--max-buffered")) *r = number(v, &n) ? SB_ERR_INVALID_ARGUMENT : sb_config_max_buffered(c, n);
    else if (!strcmp(flag, "--max-connections")) *r = number(v, &n) ? SB_ERR_INVALID_ARGUMENT : sb_config_max_connections(c, n);
    else if (!strcmp(flag, "--handshake-timeout")) *r = millis(v, &ms) ? SB_ERR_INVALID_ARGUMENT : sb_config_handshake_timeout_ms(c, ms);
    else if (!strcmp(flag, "--idle-timeout")) *r = millis(v, &ms) ? SB_ERR_INVALID_ARGUMENT : sb_config_idle_timeout_ms(c, ms);
    else if (!strcmp(flag, "--close-timeout")) *r = millis(v, &ms) ? SB_ERR_INVALID_ARGUMENT : sb_config_close_timeout_ms(c, ms);
    else if (!strcmp(flag, "--ping-interval")) *r = millis(v, &ms) ? SB_ERR_INVALID_ARGUMENT : sb_config_ping_interval_ms(c, ms);
    else return -1;
    return *r == SB_ERR_INVALID_ARGUMENT ? -1 : 0;
}

/* Builds the configuration from the command line; NULL after printing why not. */
static sb_config *parse_args(int argc, char **argv) {
    sb_config *config;
    if (sb_config_new(&config) != SB_OK) return NULL;
    sb_config_per_loop(config, true);
    int listen = 0;
    for (int i = 1; i < argc; i++) {
        sb_result r = SB_OK;
        if (!strcmp(argv[i], "--reuse-port")) {
            sb_config_reuse_port(config, true);
        } else if (i + 1 >= argc || apply(config, argv[i], argv[i + 1], &r) != 0) {
            fprintf(stderr, "echo: bad flag or value: %s\n%s\n", argv[i], usage);
            sb_config_free(config);
            return NULL;
        } else if (r != SB_OK) {
            fprintf(stderr, "echo: %s %s: %s\n", argv[i], argv[i + 1], sb_last_error_message());
            sb_config_free(config);
            return NULL;
        } else {
            listen |= !strcmp(argv[i++], "--listen");
        }
    }
    if (!listen) sb_config_listen(config, "127.0.0.1:9001");
    return config;
}

int main(int argc, char **argv) {
    sb_config *config = parse_args(argc, argv);
    if (!config) return 2;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sb_server *server;
    sb_result r = sb_server_start(config, &server);
    sb_config_free(config);
    if (r != SB_OK) {
        fprintf(stderr, "echo: %s\n", sb_last_error_message());
        return 1;
    }
    printf("listening on");
    for (size_t i = 0; i < sb_server_addr_count(server); i++) {
        const char *addr;
        if (sb_server_addr(server, i, &addr, NULL) == SB_OK) printf(" %s", addr);
    }
    printf("\n"), fflush(stdout);
    /* Each loop calls on_event where it reads the message: the echo goes straight out. */
    pthread_t watcher;
    if (!inline_mode && pthread_create(&watcher, NULL, watch, server) == 0) {
        sb_server_run(server, on_event, NULL, server); /* until `watch` shuts it down */
        pthread_join(watcher, NULL);
    }
    size_t n; /* inline mode: this thread serves, and looks at the signals every 100 ms */
    while (inline_mode && !signalled(server) && sb_server_serve(server, 100, on_event, server, &n) == SB_OK)
        continue;
    sb_server_shutdown(server);
    sb_server_free(server);
    return 0;
}
