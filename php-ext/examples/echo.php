<?php
// Echo server: every message comes back with its type, except that a text message
// starting with "B:" goes to every client (the sender included): by broadcast(),
// or with --publish by publish() to the topic "all", which every client joins.
//
//   php -d extension=target/release/libswitchboard_php.so php-ext/examples/echo.php 127.0.0.1:9002 [--publish] [--threads N]
//
// --threads 0 runs the engine inline, inside run(), with no I/O thread.
//
// Ctrl-C or SIGTERM stops it gracefully: every client receives close code 1001.

use Switchboard\Server;

$options = [
    'listen' => $argv[1] ?? '127.0.0.1:9002',
    'max_message_size' => 16 << 20,
];
$threads = array_search('--threads', $argv, true);
if ($threads !== false) {
    $options['threads'] = (int) ($argv[$threads + 1] ?? 1);
}
$server = new Server($options);
$topic = in_array('--publish', $argv, true) ? 'all' : null;

if ($topic !== null) {
    $server->on('open', fn (int $id) => $server->subscribe($id, $topic));
}

$server->on('message', function (int $id, string $data, bool $binary) use ($server, $topic) {
    if (!$binary && strncmp($data, 'B:', 2) === 0) {
        $topic === null ? $server->broadcast($data) : $server->publish($topic, $data);
    } else {
        $server->send($id, $data, $binary);
    }
});

echo 'listening on ', implode(' ', $server->addresses()), "\n";
$server->run();
