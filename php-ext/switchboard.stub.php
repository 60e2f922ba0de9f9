<?php

// Stubs for switchboard

namespace Switchboard {
    /**
     * Thrown by the extension for invalid options and arguments, and for misuse
     * such as calling run() from inside a handler.
     */
    class Exception extends \Exception {}

    /**
     * A client of a Switchboard server's control socket. Each call sends one
     * command and waits for the server's answer; the connection is opened on first
     * use and kept by the process for later requests (persistent, like pconnect).
     *
     * Methods that address a connection return false when it is closed or
     * unknown; every other failure (server unreachable, timeout, wrong secret,
     * invalid argument) throws `\Switchboard\Exception` naming the address.
     */
    class Client {
        /**
         * A client of the control socket at `$address` (`"unix:/path/to.sock"` or
         * `"tcp:HOST:PORT"`). Options: `secret` (string, required by a TCP control
         * socket), `timeout` (seconds: for connecting, each write and each reply;
         * default 1 to connect and 5 for the rest). Nothing is connected until the
         * first call.
         *
         * @throws \Switchboard\Exception for an address of another form, an unknown
         * option or a wrong value.
         *
         * @param string $address
         * @param array|null $options
         */
        public function __construct(string $address, ?array $options = null) {}

        /**
         * The control socket's address, as given.
         *
         * @return string
         */
        public function address(): string {}

        /**
         * Has the server bind the connection to a user id.
         *
         * @param int $id
         * @param string $user
         * @return bool
         */
        public function bindUser(int $id, string $user): bool {}

        /**
         * Has the server send to every open connection, except `$except` (0: none).
         *
         * @param string $data
         * @param bool $binary
         * @param int $except
         * @return bool
         */
        public function broadcast(string $data, bool $binary = false, int $except = 0): bool {}

        /**
         * Has the server start the close handshake (codes 1000-1003, 1007-1009,
         * 1011-1014, 3000-4999; a reason of at most 123 bytes).
         *
         * @param int $id
         * @param int $code
         * @param string $reason
         * @return bool
         */
        public function close(int $id, int $code = 1000, string $reason = ''): bool {}

        /**
         * Closes this process's pooled connection to the address (the next call
         * opens a new one).
         *
         * @return void
         */
        public function disconnect(): void {}

        /**
         * Has the server send to every subscriber of a topic, except `$except` (0: none).
         *
         * @param string $topic
         * @param string $data
         * @param bool $binary
         * @param int $except
         * @return bool
         */
        public function publish(string $topic, string $data, bool $binary = false, int $except = 0): bool {}

        /**
         * Has the server send a text (valid UTF-8) or binary message. False if the
         * connection is closed or unknown.
         *
         * @param int $id
         * @param string $data
         * @param bool $binary
         * @return bool
         */
        public function send(int $id, string $data, bool $binary = false): bool {}

        /**
         * Has the server send to every connection bound to the user; returns how many.
         *
         * @param string $user
         * @param string $data
         * @param bool $binary
         * @return int
         */
        public function sendToUser(string $user, string $data, bool $binary = false): int {}

        /**
         * The server's counters by name (`connections`, `accepted`, ...,
         * `closed_by_peer`, ...), as the server reports them.
         *
         * @return array
         */
        public function stats(): array {}

        /**
         * Has the server add the connection to a topic.
         *
         * @param int $id
         * @param string $topic
         * @return bool
         */
        public function subscribe(int $id, string $topic): bool {}

        /**
         * Has the server remove the connection's user binding.
         *
         * @param int $id
         * @return bool
         */
        public function unbindUser(int $id): bool {}

        /**
         * Has the server remove the connection from a topic.
         *
         * @param int $id
         * @param string $topic
         * @return bool
         */
        public function unsubscribe(int $id, string $topic): bool {}

        /**
         * The ids of the user's open connections.
         *
         * @param string $user
         * @return array
         */
        public function userConnections(string $user): array {}
    }

    /**
     * A WebSocket server. The engine's I/O threads hold every connection (with
     * `'threads' => 0` there are none: the engine runs inside `run()` and `poll()`);
     * handlers run on the PHP thread inside `run()`, or events are taken with `poll()`.
     *
     * Connection ids are ints (never 0). Methods that address a connection return
     * false when it is closed or unknown, or when the server is stopped; invalid
     * arguments throw `\Switchboard\Exception`.
     */
    class Server {
        /**
         * Version of the extension.
         */
        public const VERSION = '0.1.0';

        /**
         * Starts listening at once (the I/O threads accept connections and queue
         * their events until `run()` or `poll()` takes them; with `'threads' => 0`
         * clients are served only inside `run()` and `poll()`).
         *
         * @throws \Switchboard\Exception for an unknown option, a wrong value, or an
         * address that cannot be bound.
         *
         * @param array $options
         */
        public function __construct(array $options) {}

        /**
         * Accepts a pending handshake (`authorize` option), with optional
         * `['user' => string, 'subprotocol' => string, 'headers' => [name => value]]`.
         * The `open` handler runs next. False if the handshake was already decided
         * or the client left.
         *
         * @param int $id
         * @param array|null $options
         * @return bool
         */
        public function accept(int $id, ?array $options = null): bool {}

        /**
         * A file descriptor that is readable while `poll()` has work (events
         * waiting; with `'threads' => 0`, also sockets to read), for programs with
         * their own event loop: `$events = fopen('php://fd/' . $server->eventFd(), 'r');`
         * then `stream_select()` on it, or Revolt's `EventLoop::onReadable($events, ...)`,
         * and call `poll(0)` when it is readable (and at least every 50 ms with
         * `'threads' => 0`, so that pings and timeouts run). The descriptor belongs to
         * the server: `php://fd/` opens a duplicate, which the stream may close.
         *
         * @return int
         */
        public function eventFd(): int {}

        /**
         * The addresses listened on, as "IP:port" (with the real port for port 0).
         *
         * @return array
         */
        public function addresses(): array {}

        /**
         * Calls `$callback(int $timer)` once after `$seconds`; returns the timer id.
         *
         * @param float $seconds
         * @param callable $callback
         * @return int
         */
        public function after(float $seconds, callable $callback): int {}

        /**
         * Binds the connection to a user id (a user may have many connections).
         *
         * @param int $id
         * @param string $user
         * @return bool
         */
        public function bindUser(int $id, string $user): bool {}

        /**
         * Sends to every open connection, except `$except` (0: none).
         *
         * @param string $data
         * @param bool $binary
         * @param int $except
         * @return bool
         */
        public function broadcast(string $data, bool $binary = false, int $except = 0): bool {}

        /**
         * Cancels a timer; false if it had already ended or never existed.
         *
         * @param int $timer
         * @return bool
         */
        public function clearTimer(int $timer): bool {}

        /**
         * Starts the close handshake.
         *
         * @throws \Switchboard\Exception for a code other than 1000-1003, 1007-1009, 1011-1014,
         * 3000-4999, or a reason longer than 123 bytes.
         *
         * @param int $id
         * @param int $code
         * @param string $reason
         * @return bool
         */
        public function close(int $id, int $code = 1000, string $reason = ''): bool {}

        /**
         * Calls `$callback(int $timer)` every `$seconds` (at least 0.001) while
         * `run()` or `poll()` runs; returns the timer id.
         *
         * @param float $seconds
         * @param callable $callback
         * @return int
         */
        public function every(float $seconds, callable $callback): int {}

        /**
         * Facts about an open connection, or null if it is closed or unknown: `id`,
         * `peer`, `path`, `query`, `subprotocol`, `user`, `pending`, `connected_for`
         * (seconds), `messages_in`, `messages_out`, `bytes_in`, `bytes_out`, `buffered`.
         *
         * @param int $id
         * @return array|null
         */
        public function info(int $id): ?array {}

        /**
         * Sets the handler for an event, replacing any earlier one:
         * `open(int $id, array $request)`, `message(int $id, string $data, bool $binary)`,
         * `close(int $id, int $code, string $reason, bool $clean)`,
         * `handshake(int $id, array $request): bool|int|array|null` (needs the
         * `authorize` option), `error(\Throwable $e, string $event, ?int $id)`.
         *
         * @param string $event
         * @param callable $handler
         * @return void
         */
        public function on(string $event, callable $handler): void {}

        /**
         * For programs with their own loop: up to `$max` events as arrays with a
         * `type` of `open` (`id`, `request`), `message` (`id`, `data`, `binary`),
         * `close` (`id`, `code`, `reason`, `clean`) or `handshake` (`id`, `request`).
         * Waits up to `$timeout_ms` for the first (-1: until one arrives or the server
         * stops); returns early, possibly empty, after a pcntl signal handler ran.
         * Timers that are due fire here too, as under `run()`. With `'threads' => 0`, clients are read and
         * written only inside `poll()` (sends go out at the next call): call it
         * regularly.
         *
         * @param int $timeout_ms
         * @param int $max
         * @return array
         */
        public function poll(int $timeout_ms = -1, int $max = 1024): array {}

        /**
         * Sends to every subscriber of a topic, except `$except` (0: none).
         *
         * @param string $topic
         * @param string $data
         * @param bool $binary
         * @param int $except
         * @return bool
         */
        public function publish(string $topic, string $data, bool $binary = false, int $except = 0): bool {}

        /**
         * Refuses a pending handshake with an HTTP status (400-599) and a body.
         * False if the handshake was already decided or the client left.
         *
         * @param int $id
         * @param int $status
         * @param string $body
         * @return bool
         */
        public function reject(int $id, int $status = 403, string $body = ''): bool {}

        /**
         * Reads the `tls_cert` and `tls_key` files again (a renewed certificate)
         * without a restart: new connections use them, open ones keep their session.
         *
         * @throws \Switchboard\Exception naming the file when it cannot be used (the
         * certificate in use stays), or when the server has no TLS.
         *
         * @return void
         */
        public function reloadTls(): void {}

        /**
         * Serves: calls the handlers and timers until `stop()` is called (from a
         * handler, a timer or a signal handler), SIGINT/SIGTERM arrive (unless the
         * script handles them itself), or the server stops. Returns after a graceful
         * shutdown (clients receive close code 1001).
         *
         * @return void
         */
        public function run(): void {}

        /**
         * Sends a text (valid UTF-8) or binary message. False if the connection is gone.
         *
         * @throws \Switchboard\Exception if a text message is not valid UTF-8.
         *
         * @param int $id
         * @param string $data
         * @param bool $binary
         * @return bool
         */
        public function send(int $id, string $data, bool $binary = false): bool {}

        /**
         * Sends to every connection bound to the user; returns how many (0 when the
         * server is stopped).
         *
         * @param string $user
         * @param string $data
         * @param bool $binary
         * @return int
         */
        public function sendToUser(string $user, string $data, bool $binary = false): int {}

        /**
         * The server's counters: `connections` (open now), `accepted`,
         * `handshakes_failed`, `messages_in`, `messages_out`, `bytes_in`, `bytes_out`,
         * `dropped`, and `closed_by` => [`peer`, `application`, `protocol_error`,
         * `idle_timeout`, `slow_consumer`, `abnormal`, `shutdown`].
         *
         * @return array
         */
        public function stats(): array {}

        /**
         * Graceful shutdown: inside `run()` it makes `run()` return; elsewhere it
         * shuts down at once (blocking until clients are closed). Idempotent.
         *
         * @return void
         */
        public function stop(): void {}

        /**
         * Adds the connection to a topic.
         *
         * @param int $id
         * @param string $topic
         * @return bool
         */
        public function subscribe(int $id, string $topic): bool {}

        /**
         * Removes the connection's user binding.
         *
         * @param int $id
         * @return bool
         */
        public function unbindUser(int $id): bool {}

        /**
         * Removes the connection from a topic.
         *
         * @param int $id
         * @param string $topic
         * @return bool
         */
        public function unsubscribe(int $id, string $topic): bool {}

        /**
         * The open connections bound to the user.
         *
         * @param string $user
         * @return array
         */
        public function userConnections(string $user): array {}
    }

    /**
     * A worker: attaches to the operator's control socket (`unix:/path` or
     * `tcp:HOST:PORT`) and handles the events of the connections the operator
     * gives it, with the handlers of `Switchboard\Server`.
     *
     * Commands (`send`, `publish`...) are queued and written before the next
     * read; they return true once queued and false once the worker is no longer
     * attached (after `run()` returned). The operator carries them out in order,
     * skipping those for connections that have gone meanwhile. Invalid arguments
     * throw `\Switchboard\Exception`.
     */
    class Worker {
        /**
         * Connects to the operator and attaches; its events start to arrive in `run()` or `poll()`.
         *
         * @throws \Switchboard\Exception for a malformed address, an unknown option,
         * an operator that cannot be reached, or one that refuses (wrong secret).
         *
         * @param string $address
         * @param ?array $options
         */
        public function __construct(string $address, ?array $options = null) {}

        /**
         * Accepts a pending handshake, with optional
         * `['user' => string, 'subprotocol' => string, 'headers' => [name => value]]`.
         * The `open` handler runs next. False if the handshake was already decided.
         *
         * @param int $id
         * @param ?array $options
         * @return bool
         */
        public function accept(int $id, ?array $options = null): bool {}

        /**
         * Calls `$callback(int $timer)` once after `$seconds`; returns the timer id.
         *
         * @param float $seconds
         * @param callable $callback
         * @return int
         */
        public function after(float $seconds, callable $callback): int {}

        /**
         * True while attached to the operator: until the last event after
         * `stop()` was taken, or the connection broke.
         *
         * @return bool
         */
        public function attached(): bool {}

        /**
         * Binds the connection to a user id (a user may have many connections).
         *
         * @param int $id
         * @param string $user
         * @return bool
         */
        public function bindUser(int $id, string $user): bool {}

        /**
         * Sends to every open connection, except `$except` (0: none).
         *
         * @param string $data
         * @param bool $binary
         * @param int $except
         * @return bool
         */
        public function broadcast(string $data, bool $binary = false, int $except = 0): bool {}

        /**
         * Cancels a timer; false if it had already ended or never existed.
         *
         * @param int $timer
         * @return bool
         */
        public function clearTimer(int $timer): bool {}

        /**
         * Starts the close handshake.
         *
         * @throws \Switchboard\Exception for a code other than 1000-1003, 1007-1009,
         * 1011-1014, 3000-4999, or a reason longer than 123 bytes.
         *
         * @param int $id
         * @param int $code
         * @param string $reason
         * @return bool
         */
        public function close(int $id, int $code = 1000, string $reason = ''): bool {}

        /**
         * A file descriptor that is readable while `poll()` has work: events to
         * hand out (also those read while `sendToUser()`, `info()`... waited for
         * their answer) or commands to write, for programs with their own loop:
         * `$events = fopen('php://fd/' . $worker->eventFd(), 'r');` then
         * `stream_select()` on it, or Revolt's `EventLoop::onReadable($events, ...)`,
         * and call `poll(0)` when it is readable. The descriptor belongs to the
         * worker: `php://fd/` opens a duplicate, which the stream may close.
         *
         * @throws \Switchboard\Exception once the worker is no longer attached.
         *
         * @return int
         */
        public function eventFd(): int {}

        /**
         * Calls `$callback(int $timer)` every `$seconds` (at least 0.001) while
         * `run()` runs; returns the timer id.
         *
         * @param float $seconds
         * @param callable $callback
         * @return int
         */
        public function every(float $seconds, callable $callback): int {}

        /**
         * Facts about an open connection, as the operator knows it, or null if it
         * is closed or unknown (or the worker is no longer attached): the keys of
         * `Server::info()`. One round trip, after the commands queued before it.
         *
         * @param int $id
         * @return ?array
         */
        public function info(int $id): ?array {}

        /**
         * Sets the handler for an event, replacing any earlier one:
         * `open(int $id, array $request)` (the request as in `Server`, plus `resumed`,
         * `user` and `topics` for a connection taken over from a worker that left),
         * `message(int $id, string $data, bool $binary)`,
         * `close(int $id, int $code, string $reason, bool $clean)`,
         * `handshake(int $id, array $request): bool|int|array|null` (when the operator
         * runs with `--authorize`), `error(\Throwable $e, string $event, ?int $id)`.
         *
         * @param string $event
         * @param callable $handler
         * @return void
         */
        public function on(string $event, callable $handler): void {}

        /**
         * For programs with their own loop: up to `$max` events as arrays, as
         * `Server::poll()` gives them (`open` with `request`, which for a connection
         * taken over from another worker has `resumed`, `user` and `topics`;
         * `message`, `close`, `handshake`). Writes the queued commands first, then
         * waits up to `$timeout_ms` for the first event (-1: until one arrives);
         * returns early, possibly empty, after a pcntl signal handler ran. Timers
         * that are due fire here too, as under `run()`.
         *
         * @throws \Switchboard\Exception when the connection to the operator breaks.
         *
         * @param int $timeout_ms
         * @param int $max
         * @return array
         */
        public function poll(int $timeout_ms = -1, int $max = 1024): array {}

        /**
         * Sends to every subscriber of a topic, on every worker, except `$except` (0: none).
         *
         * @param string $topic
         * @param string $data
         * @param bool $binary
         * @param int $except
         * @return bool
         */
        public function publish(string $topic, string $data, bool $binary = false, int $except = 0): bool {}

        /**
         * Refuses a pending handshake with an HTTP status (400-599) and a body.
         * False if the handshake was already decided.
         *
         * @param int $id
         * @param int $status
         * @param string $body
         * @return bool
         */
        public function reject(int $id, int $status = 403, string $body = ''): bool {}

        /**
         * Serves: calls the handlers and timers until `stop()` is called or
         * SIGINT/SIGTERM arrive (unless the script handles them itself), then
         * detaches gracefully: the events already sent are handled, the commands
         * written, and the connection closed; the operator then gives the
         * connections to the other workers, losing no message.
         *
         * @throws \Switchboard\Exception when the connection to the operator breaks.
         *
         * @return void
         */
        public function run(): void {}

        /**
         * Sends a text (valid UTF-8) or binary message.
         *
         * @throws \Switchboard\Exception if a text message is not valid UTF-8.
         *
         * @param int $id
         * @param string $data
         * @param bool $binary
         * @return bool
         */
        public function send(int $id, string $data, bool $binary = false): bool {}

        /**
         * Sends to every connection bound to the user; returns how many. Unlike the
         * other commands it waits for the operator's answer (one round trip, after
         * the commands queued before it); 0 once the worker is no longer attached.
         *
         * @param string $user
         * @param string $data
         * @param bool $binary
         * @return int
         */
        public function sendToUser(string $user, string $data, bool $binary = false): int {}

        /**
         * The operator's counters by name: the server's (`connections`,
         * `messages_in`, ..., `closed_by_peer`, ...), the control socket's and the
         * workers' (`workers`, `backlog_events`, `backlog_refused`...). One round
         * trip; empty once the worker is no longer attached.
         *
         * @return array
         */
        public function stats(): array {}

        /**
         * Detaches gracefully: the operator sends no new events and, once this
         * worker has handled the ones it was sent, gives its connections to the
         * other workers, losing no message. Inside `run()`, `run()` returns once
         * done. Outside it (a `poll()` loop), keep calling `poll()` and handling
         * its events until `attached()` is false; the connection also closes when
         * the object is destroyed (the events not yet handled are then lost).
         */
        public function stop(): void {}

        /**
         * Adds the connection to a topic.
         *
         * @param int $id
         * @param string $topic
         * @return bool
         */
        public function subscribe(int $id, string $topic): bool {}

        /**
         * Removes the connection's user binding.
         *
         * @param int $id
         * @return bool
         */
        public function unbindUser(int $id): bool {}

        /**
         * Removes the connection from a topic.
         *
         * @param int $id
         * @param string $topic
         * @return bool
         */
        public function unsubscribe(int $id, string $topic): bool {}

        /**
         * The connections bound to the user, on every worker (one round trip, as
         * `sendToUser`); empty once the worker is no longer attached.
         *
         * @param string $user
         * @return array
         */
        public function userConnections(string $user): array {}
    }
}
