/* Shared by the C tests: checks that count failures, a test server on 127.0.0.1:0, and
 * one real WebSocket client process (tests/c/clients.py, run by SB_TEST_PYTHON) per test,
 * bounded in time by SB_TEST_TIMEOUT seconds. */
#ifndef SB_TEST_HARNESS_H
#define SB_TEST_HARNESS_H

#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <switchboard.h>

extern _Atomic int tc_failures;

#define CHECK(cond) tc_check((cond), #cond, __FILE__, __LINE__)
#define CHECK_RESULT(expr, want) tc_check_result((expr), (want), #expr, __FILE__, __LINE__)
#define CHECK_OK(expr) CHECK_RESULT(expr, SB_OK)

void tc_check(bool ok, const char *expr, const char *file, int line);
void tc_check_result(sb_result got, sb_result want, const char *expr, const char *file, int line);

/* True when the library string equals want (and is NUL-terminated right after it). */
bool tc_str_eq(sb_str s, const char *want);
/* True when a message event's payload equals want. */
bool tc_payload_eq(const sb_event *e, const char *want);
/* True when a message event's payload starts with prefix. */
bool tc_payload_starts(const sb_event *e, const char *prefix);

/* A config listening on 127.0.0.1:0 with 2 I/O threads and short timeouts. */
sb_config *tc_config(void);
/* Starts the server and frees the config; exits the test on failure. */
sb_server *tc_start(sb_config *config);
/* The server's first port. */
uint16_t tc_port(const sb_server *server);

/* Starts `clients.py SCENARIO ws://127.0.0.1:PORT`; with stdout_fd, its stdout becomes a
 * pipe whose read end is stored there. Starts the test's deadline. One client at a time:
 * the next may start once tc_running() returned false. */
pid_t tc_client(const char *scenario, const sb_server *server, int *stdout_fd);
/* The same for a server on another port (the operator of the worker test). */
pid_t tc_client_at(const char *scenario, uint16_t port, int *stdout_fd);
/* False once the client has exited, or the deadline passed (the client is then killed and
 * the test fails). */
bool tc_running(void);
/* True when the client exited with status 0. */
bool tc_client_passed(void);
/* Milliseconds left before the deadline. */
int tc_millis_left(void);

/* Takes events with a 50 ms timeout; returns how many (checking the result is SB_OK). */
size_t tc_wait(sb_server *server, sb_event *events, size_t capacity);

/* Close events may trail the client's exit by a moment: waits up to 5 s for `missing`
 * more of them (other events are dropped) and returns how many came. */
int tc_more_closes(sb_server *server, int missing);

/* Prints the verdict; the process's exit status. */
int tc_verdict(const char *name);

#endif
