<?php
// The worker of bench/fpm-publish.sh: subscribes every new connection to the topic "news".
// php worker.php CONTROL_ADDRESS; prints "attached" once attached.
$worker = new Switchboard\Worker($argv[1]);
$worker->on('open', function (int $id, array $request) use ($worker) {
    $worker->subscribe($id, 'news');
});
echo "attached\n";
$worker->run();
