/* The readiness descriptor in the application's own poll() loop, next to another
 * descriptor: the client's stdout, a pipe carrying commands ("broadcast TEXT", "done"). */
#include "harness.h"

#include <poll.h>
#include <unistd.h>

int main(void) {
    sb_server *server = tc_start(tc_config());
    int event_fd = -1, pipe_fd = -1;
    CHECK_OK(sb_server_event_fd(server, &event_fd));
    tc_client("poll", server, &pipe_fd);
    static sb_event events[64];
    char lines[4096];
    size_t have = 0;
    int opens = 0, closes = 0, ready_wakeups = 0, pipe_reads = 0;
    bool pipe_open = true;
    while ((pipe_open || closes < opens || (opens == 0 && tc_running())) && tc_millis_left() > 0) {
        struct pollfd fds[2] = {{.fd = event_fd, .events = POLLIN},
                                {.fd = pipe_open ? pipe_fd : -1, .events = POLLIN}};
        int ready = poll(fds, 2, 100);
        CHECK(ready >= 0);
        if (fds[0].revents & POLLIN) {
            ready_wakeups++;
            size_t n = 0;
            CHECK_OK(sb_server_wait(server, events, 64, 0, &n));
            for (size_t i = 0; i < n; i++) {
                opens += events[i].kind == SB_EVENT_OPEN;
                closes += events[i].kind == SB_EVENT_CLOSE;
                if (events[i].kind == SB_EVENT_MESSAGE)
                    CHECK_OK(sb_server_send(server, events[i].id, events[i].message_kind,
                                            events[i].data, events[i].len));
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            pipe_reads++;
            ssize_t got = read(pipe_fd, lines + have, sizeof lines - 1 - have);
            if (got <= 0) pipe_open = false;
            else have += (size_t)got;
        }
        /* Commands wait until the connection is known: its open event may come later. */
        char *end;
        while (opens > 0 && (end = memchr(lines, '\n', have)) != NULL) {
            *end = '\0';
            if (strncmp(lines, "broadcast ", 10) == 0)
                CHECK_OK(sb_server_broadcast(server, SB_TEXT, (const uint8_t *)lines + 10,
                                             strlen(lines + 10), 0));
            else
                CHECK(strcmp(lines, "done") == 0);
            have -= (size_t)(end + 1 - lines);
            memmove(lines, end + 1, have);
        }
    }
    close(pipe_fd);
    CHECK(tc_client_passed());
    CHECK(opens == 1);
    CHECK(closes == 1);
    CHECK(ready_wakeups >= 2);
    CHECK(pipe_reads >= 2);
    /* Everything taken: the descriptor is not readable. */
    struct pollfd idle = {.fd = event_fd, .events = POLLIN};
    CHECK(poll(&idle, 1, 0) == 0);
    sb_server_free(server);
    return tc_verdict("poll");
}
