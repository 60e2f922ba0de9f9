<?php
// Inline mode ('threads' => 0): no I/O thread; the engine runs inside run() or
// poll() on this thread. Every message comes back, except that a text starting
// with "B:" goes to every client. With --poll the script serves from its own
// poll() loop instead of run(), and stops on SIGTERM.

$server = new Switchboard\Server(['listen' => $argv[1], 'threads' => 0]);

$message = function (int $id, string $data, bool $binary) use ($server) {
    if (!$binary && str_starts_with($data, 'B:')) {
        $server->broadcast($data);
    } else {
        $server->send($id, $data, $binary);
    }
};

echo 'listening on ', implode(' ', $server->addresses()), "\n";
if (!in_array('--poll', $argv, true)) {
    $server->on('message', $message);
    $server->run();
    exit(0);
}

$stop = false;
pcntl_async_signals(true);
pcntl_signal(SIGTERM, function () use (&$stop) { $stop = true; });
while (!$stop) {
    foreach ($server->poll(1000) as $event) {
        if ($event['type'] === 'message') {
            $message($event['id'], $event['data'], $event['binary']);
        }
    }
}
$server->stop();
