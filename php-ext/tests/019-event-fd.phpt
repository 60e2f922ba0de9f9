--TEST--
eventFd(): a stream_select() loop serves without busy polling, with I/O threads and inline; timers fire under poll()
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';

/** Runs a stream_select() loop on the server's descriptor until $done() or 5 s. */
function select_loop(Switchboard\Server $s, $stream, callable $done): array
{
    $events = [];
    $wakeups = 0;
    $deadline = microtime(true) + 5;
    while (!$done($events) && microtime(true) < $deadline) {
        $read = [$stream];
        $none = null;
        if (stream_select($read, $none, $none, 0, 50000) > 0) {
            $wakeups++;
        }
        foreach ($s->poll(0) as $e) {
            $events[] = $e;
        }
    }
    return [$events, $wakeups];
}

foreach ([1, 0] as $threads) {
    $s = test_server(['threads' => $threads]);
    $stream = fopen('php://fd/' . $s->eventFd(), 'r');
    // Nothing to do: the descriptor stays quiet for the whole wait.
    $read = [$stream];
    $none = null;
    $t = microtime(true);
    $quiet = stream_select($read, $none, $none, 0, 200000) === 0;
    echo "threads $threads: quiet while idle: ", var_export($quiet && microtime(true) - $t >= 0.15, true), "\n";

    // A client's handshake (written without waiting: inline, the server answers in poll()).
    $sock = stream_socket_client('tcp://' . addr($s), $errno, $errstr, 5);
    fwrite($sock, "GET /fd HTTP/1.1\r\nHost: " . addr($s) . "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    [$events, $wakeups] = select_loop($s, $stream, fn ($e) => count($e) > 0);
    echo "  open event: ", $events[0]['type'] ?? 'none', ", woken: ", var_export($wakeups > 0, true), "\n";
    fclose($sock);
    [$events] = select_loop($s, $stream, fn ($e) => count($e) > 0);
    echo "  close event: ", $events[0]['type'] ?? 'none', "\n";
    fclose($stream);
    $s->stop();
}

// Timers fire under poll().
$s = test_server();
$fired = [];
$s->after(0.05, function (int $id) use (&$fired) { $fired[] = 'after'; });
$every = $s->every(0.02, function (int $id) use (&$fired, $s) {
    $fired[] = 'every';
    if (count(array_keys($fired, 'every')) === 3) {
        $s->clearTimer($id);
    }
});
$deadline = microtime(true) + 2;
while (count($fired) < 4 && microtime(true) < $deadline) {
    $s->poll(100);
}
sort($fired);
echo json_encode($fired), "\n";
$s->stop();
--EXPECT--
threads 1: quiet while idle: true
  open event: open, woken: true
  close event: close
threads 0: quiet while idle: true
  open event: open, woken: true
  close event: close
["after","every","every","every"]
