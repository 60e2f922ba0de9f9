/* A deliberately slow echo server, for the fairness test (tests/fairness/run.sh): each
 * message is answered after 2 ms of "work" (a sleep), so that clients sending as fast as
 * they can overload it. Prints "listening on ADDR" first; SIGTERM ends it (the default
 * action: the test needs no graceful shutdown).
 *
 *   slow_echo --listen 127.0.0.1:0 --threads N     (0: inline mode)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <switchboard.h>

static void on_event(const sb_event *e, void *server) {
    if (e->kind != SB_EVENT_MESSAGE) return;
    struct timespec work = {0, 2 * 1000 * 1000};
    nanosleep(&work, NULL);
    /* Fails only for a connection that closed meanwhile. */
    sb_server_send(server, e->id, e->message_kind, e->data, e->len);
}

int main(int argc, char **argv) {
    const char *listen = NULL;
    size_t threads = 1;
    bool per_loop = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--listen")) listen = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) threads = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--per-loop")) per_loop = !strcmp(argv[i + 1], "1");
    }
    if (!listen) {
        fprintf(stderr, "usage: slow_echo --listen ADDR [--threads N] [--per-loop 1]\n");
        return 2;
    }
    sb_config *config;
    sb_server *server;
    if (sb_config_new(&config) != SB_OK || sb_config_listen(config, listen) != SB_OK ||
        sb_config_threads(config, threads) != SB_OK || sb_config_per_loop(config, per_loop) != SB_OK ||
        sb_server_start(config, &server) != SB_OK) {
        fprintf(stderr, "slow_echo: %s\n", sb_last_error_message());
        return 1;
    }
    sb_config_free(config);
    const char *addr;
    if (sb_server_addr(server, 0, &addr, NULL) != SB_OK) return 1;
    printf("listening on %s\n", addr);
    fflush(stdout);
    /* Inline and per-loop: the loops call on_event; with I/O threads, this thread does. */
    sb_server_run(server, on_event, NULL, server);
    sb_server_shutdown(server);
    sb_server_free(server);
    return 0;
}
