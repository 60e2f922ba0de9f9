<?php
// A deliberately slow echo server, for the fairness test (tests/fairness/run.sh):
// each message is answered after 2 ms of "work" (usleep), so that clients sending
// as fast as they can overload it. Prints "listening on ADDR" first; SIGTERM
// stops it.
//
//   php -d extension=target/release/libswitchboard_php.so tests/fairness/slow_echo.php ADDR THREADS

use Switchboard\Server;

$server = new Server(['listen' => $argv[1], 'threads' => (int) ($argv[2] ?? 1)]);

$server->on('message', function (int $id, string $data, bool $binary) use ($server) {
    usleep(2000);
    $server->send($id, $data, $binary);
});

echo 'listening on ', implode(' ', $server->addresses()), "\n";
$server->run();
