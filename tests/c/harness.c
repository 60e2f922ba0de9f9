#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

_Atomic int tc_failures;

static pid_t client_pid = -1;
static int client_status = -1;
static bool client_reaped;
static struct timespec deadline;

void tc_check(bool ok, const char *expr, const char *file, int line) {
    if (!ok) {
        tc_failures++;
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
    }
}

void tc_check_result(sb_result got, sb_result want, const char *expr, const char *file,
                     int line) {
    if (got != want) {
        tc_failures++;
        fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", file, line, expr,
                sb_result_name(got), sb_result_name(want), sb_last_error_message());
    }
}

bool tc_str_eq(sb_str s, const char *want) {
    size_t len = strlen(want);
    return s.ptr != NULL && s.len == len && memcmp(s.ptr, want, len) == 0 && s.ptr[len] == '\0';
}

bool tc_payload_eq(const sb_event *e, const char *want) {
    size_t len = strlen(want);
    return e->kind == SB_EVENT_MESSAGE && e->len == len && memcmp(e->data, want, len) == 0;
}

bool tc_payload_starts(const sb_event *e, const char *prefix) {
    size_t len = strlen(prefix);
    return e->kind == SB_EVENT_MESSAGE && e->len >= len && memcmp(e->data, prefix, len) == 0;
}

sb_config *tc_config(void) {
    sb_config *config = NULL;
    CHECK_OK(sb_config_new(&config));
    CHECK_OK(sb_config_listen(config, "127.0.0.1:0"));
    CHECK_OK(sb_config_threads(config, 2));
    CHECK_OK(sb_config_close_timeout_ms(config, 3000));
    return config;
}

sb_server *tc_start(sb_config *config) {
    sb_server *server = NULL;
    sb_result r = sb_server_start(config, &server);
    sb_config_free(config);
    if (r != SB_OK) {
        fprintf(stderr, "cannot start the server: %s: %s\n", sb_result_name(r),
                sb_last_error_message());
        exit(1);
    }
    return server;
}

uint16_t tc_port(const sb_server *server) {
    const char *addr = NULL;
    uint16_t port = 0;
    CHECK_OK(sb_server_addr(server, 0, &addr, &port));
    return port;
}

static double seconds_from_env(const char *name, double fallback) {
    const char *text = getenv(name);
    double value = text ? strtod(text, NULL) : 0;
    return value > 0 ? value : fallback;
}

pid_t tc_client(const char *scenario, const sb_server *server, int *stdout_fd) {
    return tc_client_at(scenario, tc_port(server), stdout_fd);
}

pid_t tc_client_at(const char *scenario, uint16_t port, int *stdout_fd) {
    const char *python = getenv("SB_TEST_PYTHON");
    const char *script = getenv("SB_TEST_CLIENTS");
    if (!python || !script) {
        fprintf(stderr, "SB_TEST_PYTHON and SB_TEST_CLIENTS must be set (tests/c/run.sh does)\n");
        exit(1);
    }
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u", (unsigned)port);
    char *argv[] = {(char *)python, (char *)script, (char *)scenario, url, NULL};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    int pipe_fds[2] = {-1, -1};
    if (stdout_fd) {
        if (pipe(pipe_fds) != 0) {
            perror("pipe");
            exit(1);
        }
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
        posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
    }
    client_reaped = false;
    int err = posix_spawn(&client_pid, python, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
        fprintf(stderr, "cannot run %s: %s\n", python, strerror(err));
        exit(1);
    }
    if (stdout_fd) {
        close(pipe_fds[1]);
        *stdout_fd = pipe_fds[0];
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)seconds_from_env("SB_TEST_TIMEOUT", 30);
    return client_pid;
}

int tc_millis_left(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(deadline.tv_sec - now.tv_sec) * 1000 +
                   (deadline.tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : (int)ms;
}

bool tc_running(void) {
    if (client_reaped || client_pid < 0) return false;
    pid_t done = waitpid(client_pid, &client_status, WNOHANG);
    if (done == client_pid) {
        client_reaped = true;
        return false;
    }
    if (tc_millis_left() == 0) {
        fprintf(stderr, "test timed out; killing the client\n");
        tc_failures++;
        kill(client_pid, SIGKILL);
        waitpid(client_pid, &client_status, 0);
        client_reaped = true;
        return false;
    }
    return true;
}

bool tc_client_passed(void) {
    while (tc_running()) {
        struct timespec pause = {0, 20 * 1000000};
        nanosleep(&pause, NULL);
    }
    return client_reaped && WIFEXITED(client_status) && WEXITSTATUS(client_status) == 0;
}

size_t tc_wait(sb_server *server, sb_event *events, size_t capacity) {
    size_t n = 0;
    CHECK_OK(sb_server_wait(server, events, capacity, 50, &n));
    return n;
}

int tc_more_closes(sb_server *server, int missing) {
    static sb_event events[64];
    int found = 0;
    for (int tries = 0; found < missing && tries < 100; tries++) {
        size_t n = tc_wait(server, events, 64);
        for (size_t i = 0; i < n; i++) found += events[i].kind == SB_EVENT_CLOSE;
    }
    return found;
}

int tc_verdict(const char *name) {
    printf("%s: %s (%d failed checks)\n", name, tc_failures ? "FAIL" : "ok", tc_failures);
    return tc_failures ? 1 : 0;
}
