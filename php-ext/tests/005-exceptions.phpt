--TEST--
A handler that throws is reported (STDERR, or the error handler) and serving goes on
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server();
$c = null;

$s->on('open', function (int $id) {
    throw new LogicException('open failed');
});
// What to do once the reply to a message is on its way (see below).
$next = [];
$s->on('message', function (int $id, string $data) use ($s, &$next) {
    match ($data) {
        'boom' => throw new RuntimeException('boom'),
        'type' => strlen(),
        'err' => throw new DomainException('for the error handler', 42),
        'twice' => throw new Exception('first'),
        default => $s->send($id, "ok:$data"),
    };
    $s->after(0.01, $next[$data]);
});
$s->after(0.05, function () use ($s, &$c) {
    $c = new TestClient(addr($s));
    $c->handshake();
    $c->send('boom');
    $c->send('type');
    $c->send('a');
});
$next['a'] = function () use ($s, &$c) {
    echo $c->recvData(), "\n";
    $s->on('error', function (Throwable $e, string $event, ?int $id) use ($s) {
        echo "error handler: ", get_class($e), ' ', $e->getMessage(), ' ', $e->getCode(), " in $event, id ", is_int($id) ? 'int' : 'null', "\n";
        if ($e->getMessage() === 'first') {
            throw new Exception('second');
        }
    });
    $c->send('err');
    $c->send('twice');
    $c->send('b');
};
$next['b'] = function () use ($s, &$c) {
    echo $c->recvData(), "\n";
    $s->after(0.01, fn () => $s->stop());
    throw new Exception('timer failed');
};
$s->after(30, function () use ($s) {
    echo "timed out\n";
    $s->stop();
});
$s->run();
echo "done\n";
--EXPECTF--
Switchboard: open handler (connection %d) threw LogicException: open failed in %s005-exceptions.php:%d
Switchboard: message handler (connection %d) threw RuntimeException: boom in %s005-exceptions.php:%d
Switchboard: message handler (connection %d) threw ArgumentCountError: strlen() expects exactly 1 argument, 0 given in %s005-exceptions.php:%d
ok:a
error handler: DomainException for the error handler 42 in message, id int
error handler: Exception first 0 in message, id int
Switchboard: the error handler threw Exception: second in %s005-exceptions.php:%d, while reporting: message handler (connection %d) threw Exception: first in %s005-exceptions.php:%d
ok:b
error handler: Exception timer failed 0 in timer, id null
done
