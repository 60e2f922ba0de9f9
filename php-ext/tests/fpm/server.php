<?php
// The in-process server of the FPM test: each WebSocket client joins the topic named by its
// path (/news) and is bound to the user of its query (?user=ann), then gets "ready".
// Serves the control socket given as argv[2]; prints "listening on ADDR" first.
$server = new Switchboard\Server(['listen' => $argv[1], 'threads' => 0, 'control' => $argv[2]]);
$server->on('open', function (int $id, array $request) use ($server) {
    parse_str($request['query'], $query);
    $server->subscribe($id, ltrim($request['path'], '/'));
    $server->bindUser($id, $query['user'] ?? 'nobody');
    $server->send($id, 'ready');
});
echo 'listening on ', $server->addresses()[0], "\n";
$server->run();
