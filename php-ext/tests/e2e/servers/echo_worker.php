<?php
// An echo worker for the operator: php echo_worker.php ADDRESS [SECRET]
// Prints "attached" once attached. A new connection is bound to the user
// "user<ID>" and subscribed to "everyone"; a taken-over one (resumed) is not,
// and the message "whoami" answers what the worker learnt of it; "inspect" answers
// with userConnections() and stats().
$worker = new Switchboard\Worker($argv[1], ['secret' => $argv[2] ?? null]);
$known = [];
$worker->on('open', function (int $id, array $request) use ($worker, &$known) {
    if ($request['resumed']) {
        $known[$id] = sprintf('resumed user=%s topics=%s', $request['user'] ?? '-',
            implode(',', $request['topics']));
        return;
    }
    $worker->bindUser($id, "user$id");
    $worker->subscribe($id, 'everyone');
    $known[$id] = "new path={$request['path']}";
});
$worker->on('message', function (int $id, string $data, bool $binary) use ($worker, &$known) {
    if ($data === 'whoami') {
        $worker->send($id, $known[$id] ?? 'unknown');
    } elseif ($data === 'inspect') {
        $stats = $worker->stats();
        $worker->send($id, sprintf('ids=%d workers=%d connections=%d',
            count($worker->userConnections("user$id")), $stats['workers'], $stats['connections']));
    } elseif ($data === 'count me') {
        $worker->send($id, 'reached ' . $worker->sendToUser("user$id", 'hello you'));
    } else {
        $worker->send($id, $data, $binary);
    }
});
$worker->on('close', function (int $id) use (&$known) {
    unset($known[$id]);
});
echo "attached\n";
$worker->run();
