<?php
// A worker driven by its own stream_select() loop on eventFd(), taking one event per
// poll(0, 1), as a Revolt or ReactPHP program would: php select_worker.php ADDRESS
// Prints "attached" once attached, and "detached" when it leaves after "stop".
// A new connection is bound to the user in its query (?user=ann) and greeted with "hello".
// Messages: "info" answers with what info() tells, "count me" with sendToUser()'s count,
// "ticks" with whether the timer fired under poll(), "stop" detaches; others are echoed.
$worker = new Switchboard\Worker($argv[1]);
$ticks = 0;
$worker->every(0.02, function () use (&$ticks) { $ticks++; });
$handle = function (array $e) use ($worker, &$ticks) {
    $id = $e['id'];
    switch ($e['type']) {
        case 'open':
            parse_str($e['request']['query'], $query);
            $worker->bindUser($id, $query['user'] ?? 'nobody');
            $worker->send($id, 'hello');
            break;
        case 'message':
            if ($e['data'] === 'info') {
                $info = $worker->info($id);
                $gone = $worker->info($id + 1000000);
                $worker->send($id, sprintf('path=%s user=%s in=%d gone=%s', $info['path'],
                    $info['user'], $info['messages_in'], var_export($gone, true)));
            } elseif ($e['data'] === 'count me') {
                $worker->send($id, 'reached ' . $worker->sendToUser('ann', 'hi you'));
            } elseif ($e['data'] === 'ticks') {
                $worker->send($id, $ticks >= 2 ? 'ticking' : "ticks=$ticks");
            } elseif ($e['data'] === 'stop') {
                $worker->send($id, 'stopping');
                $worker->stop();
            } else {
                $worker->send($id, $e['data'], $e['binary']);
            }
            break;
    }
};
$events = fopen('php://fd/' . $worker->eventFd(), 'r');
echo "attached\n";
while ($worker->attached()) {
    $read = [$events];
    $none = null;
    // The timer needs poll() every 20 ms; the descriptor wakes the loop for events.
    if (stream_select($read, $none, $none, 0, 20000) === false) {
        break;
    }
    foreach ($worker->poll(0, 1) as $e) {
        $handle($e);
    }
}
echo "detached\n";
