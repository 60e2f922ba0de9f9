<?php
// The operator's worker in the FPM test: what server.php does, as a Switchboard\Worker. Each
// WebSocket client joins the topic named by its path (/news) and is bound to the user of its
// query (?user=ann), then gets "ready". Attaches to the control socket given as argv[1];
// prints "attached" once attached.
$worker = new Switchboard\Worker($argv[1]);
$worker->on('open', function (int $id, array $request) use ($worker) {
    parse_str($request['query'], $query);
    $worker->subscribe($id, ltrim($request['path'], '/'));
    $worker->bindUser($id, $query['user'] ?? 'nobody');
    $worker->send($id, 'ready');
});
echo "attached\n";
$worker->run();
