/* A C worker attached to the operator program (started here, SB_TEST_OPERATOR), driven by
 * poll(2) on its readiness descriptor: it echoes the echo scenario's messages, binds the
 * user, asks about the connection, answers a question (send to user) in order with the
 * events, refuses bad arguments before they leave, and detaches cleanly. */
#include "harness.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t operator_pid = -1;

/* Starts the operator with its control socket at `control`; returns its WebSocket port. */
static uint16_t start_operator(const char *control) {
    const char *path = getenv("SB_TEST_OPERATOR");
    if (!path) {
        fprintf(stderr, "SB_TEST_OPERATOR must be set (tests/c/run.sh does)\n");
        exit(1);
    }
    int out[2];
    if (pipe(out) != 0) {
        perror("pipe");
        exit(1);
    }
    operator_pid = fork();
    if (operator_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a test that crashed */
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execl(path, path, "--listen", "127.0.0.1:0", "--control", control, (char *)NULL);
        perror(path);
        _exit(127);
    }
    close(out[1]);
    FILE *lines = fdopen(out[0], "r");
    char line[256];
    unsigned port = 0;
    if (!lines || !fgets(line, sizeof line, lines) ||
        sscanf(line, "listening on 127.0.0.1:%u", &port) != 1) {
        fprintf(stderr, "the operator did not say where it listens\n");
        exit(1);
    }
    CHECK(fgets(line, sizeof line, lines) != NULL && strncmp(line, "control on ", 11) == 0);
    fclose(lines);
    return (uint16_t)port;
}

static void stop_operator(void) {
    kill(operator_pid, SIGTERM);
    int status = 0;
    CHECK(waitpid(operator_pid, &status, 0) == operator_pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void check_refusals(void) {
    sb_worker *none = NULL;
    CHECK_RESULT(sb_worker_connect("unix:/nonexistent/sb.sock", NULL, &none), SB_ERR_IO);
    CHECK(strstr(sb_last_error_message(), "No such file") != NULL);
    CHECK_RESULT(sb_worker_connect("nowhere", NULL, &none), SB_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(sb_worker_connect(NULL, NULL, &none), SB_ERR_NULL);
    CHECK(none == NULL);
}

static void check_open(sb_worker *worker, const sb_event *e) {
    CHECK(tc_str_eq(e->open->path, "/echo/path"));
    CHECK(tc_str_eq(e->open->query, "a=1&b=two"));
    CHECK(!e->open->pending);
    sb_str value;
    CHECK_OK(sb_open_header(e->open, "x-test", &value));
    CHECK(tc_str_eq(value, "yes"));
    sb_worker_open info;
    CHECK_OK(sb_worker_open_info(worker, e->id, &info));
    CHECK(!info.resumed);
    CHECK(info.user.ptr == NULL);
    CHECK(info.topic_count == 0);
    CHECK_RESULT(sb_worker_open_info(worker, e->id + 1000, &info), SB_ERR_NOT_FOUND);
    CHECK_OK(sb_worker_bind_user(worker, e->id, "ann"));
    CHECK_OK(sb_worker_subscribe(worker, e->id, "news"));
    /* What the operator knows of it, asked after the commands queued before. */
    sb_conn_info *facts = NULL;
    CHECK_OK(sb_worker_info(worker, e->id, &facts));
    if (facts) {
        CHECK(facts->id == e->id && tc_str_eq(facts->path, "/echo/path"));
        CHECK(tc_str_eq(facts->query, "a=1&b=two") && tc_str_eq(facts->user, "ann"));
        sb_conn_info_free(facts);
    }
    CHECK_RESULT(sb_worker_info(worker, e->id + 1000, &facts), SB_ERR_UNKNOWN_CONNECTION);
    /* Refused here, as sb_server_* refuses them: nothing reaches the operator. */
    CHECK_RESULT(sb_worker_send(worker, e->id, SB_TEXT, (const uint8_t *)"\xff", 1),
                 SB_ERR_INVALID_UTF8);
    CHECK_RESULT(sb_worker_close(worker, e->id, 1005, NULL), SB_ERR_INVALID_CLOSE_CODE);
    CHECK_RESULT(sb_worker_reject(worker, e->id, 200, NULL), SB_ERR_INVALID_STATUS);
}

int main(void) {
    check_refusals();
    char control[128];
    snprintf(control, sizeof control, "unix:/tmp/sb-test-worker-%d.sock", (int)getpid());
    uint16_t port = start_operator(control);
    sb_worker *worker = NULL;
    CHECK_OK(sb_worker_connect(control, NULL, &worker));
    if (!worker) return tc_verdict("worker");

    /* Served as a program with its own loop would: poll(2) on the readiness descriptor,
     * then take at most 4 events without waiting; the rest (and the replies to write)
     * keep the descriptor readable. */
    int fd = -1;
    CHECK_OK(sb_worker_fd(worker, &fd));
    tc_client_at("echo", port, NULL);
    static sb_event events[64];
    int opens = 0, closes = 0, messages = 0;
    while (tc_running() || closes < opens) {
        struct pollfd ready = {.fd = fd, .events = POLLIN};
        if (poll(&ready, 1, 50) != 1) {
            if (tc_millis_left() == 0) break;
            continue;
        }
        size_t n = 0;
        CHECK_OK(sb_worker_wait(worker, events, 4, 0, &n));
        for (size_t i = 0; i < n; i++) {
            const sb_event *e = &events[i];
            if (e->kind == SB_EVENT_OPEN) {
                opens++;
                check_open(worker, e);
            } else if (e->kind == SB_EVENT_MESSAGE) {
                messages++;
                CHECK_OK(sb_worker_send(worker, e->id, e->message_kind, e->data, e->len));
            } else if (e->kind == SB_EVENT_CLOSE) {
                closes++;
                CHECK(e->close_code == 1000 && e->clean);
            }
        }
        if (tc_millis_left() == 0) break;
    }
    CHECK(tc_client_passed());
    CHECK(opens == 1 && closes == 1 && messages == 109);

    /* A question: answered after the commands before it; the user has no connection now. */
    size_t reached = 99;
    CHECK_OK(sb_worker_send_to_user(worker, "ann", SB_TEXT, (const uint8_t *)"hi", 2, &reached));
    CHECK(reached == 0);
    CHECK_OK(sb_worker_publish(worker, "news", SB_TEXT, (const uint8_t *)"x", 1, 0));

    /* Detach: events until SB_ERR_SHUT_DOWN, then free. */
    CHECK_OK(sb_worker_detach(worker));
    sb_result r = SB_OK;
    for (int turns = 0; r == SB_OK && turns < 200; turns++) {
        size_t n = 0;
        r = sb_worker_wait(worker, events, 64, 50, &n);
    }
    CHECK_RESULT(r, SB_ERR_SHUT_DOWN);
    sb_worker_free(worker);
    stop_operator();
    return tc_verdict("worker");
}
