--TEST--
Misuse: unknown and closed ids, bad arguments, re-entrant calls from handlers, clone
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server();
function attempt(string $what, callable $f): void
{
    try {
        $r = $f();
        echo "$what: ", json_encode($r), "\n";
    } catch (Throwable $e) {
        echo "$what: ", get_class($e), ': ', $e->getMessage(), "\n";
    }
}

// Ids that never existed.
foreach ([0, -1, 12345, PHP_INT_MAX, PHP_INT_MIN] as $id) {
    attempt("unknown $id", fn () => [$s->send($id, 'x'), $s->close($id), $s->subscribe($id, 't'),
        $s->unsubscribe($id, 't'), $s->bindUser($id, 'u'), $s->unbindUser($id), $s->info($id),
        $s->accept($id), $s->reject($id)]);
}

// A connection that closed.
$c = new TestClient(addr($s));
$c->handshake();
$id = poll_for($s, 'open')['id'];
attempt('open info', fn () => array_keys($s->info($id)));
$c->disconnect();
attempt('close event', fn () => poll_for($s, 'close')['code']);
attempt('closed id', fn () => [$s->send($id, 'x'), $s->info($id), $s->subscribe($id, 't')]);

// Bad arguments throw even for unknown ids.
attempt('close code 999', fn () => $s->close($id, 999));
attempt('close code 1005', fn () => $s->close($id, 1005));
attempt('close code 1010', fn () => $s->close($id, 1010));
attempt('close code 70000', fn () => $s->close($id, 70000));
attempt('long reason', fn () => $s->close($id, 1000, str_repeat('r', 124)));
attempt('reject 200', fn () => $s->reject($id, 200));
attempt('reject -1', fn () => $s->reject($id, -1));
attempt('accept option', fn () => $s->accept($id, ['usr' => 'x']));
attempt('accept user type', fn () => $s->accept($id, ['user' => 5]));
attempt('unknown event', fn () => $s->on('connect', fn () => null));
attempt('handshake without authorize', fn () => $s->on('handshake', fn () => true));
attempt('not callable', fn () => $s->on('message', 'no_such_function'));
attempt('data type', fn () => $s->send(1, []));
attempt('poll max', fn () => $s->poll(0, 0));
attempt('clone', fn () => clone $s);
attempt('construct again', fn () => $s->__construct(['listen' => '127.0.0.1:0']));

// Re-entrant calls from inside handlers.
$c = new TestClient(addr($s));
$c->handshake();
$first = function (int $id, string $data) use ($s, &$first) {
    attempt('run() in handler', fn () => $s->run());
    attempt('poll() in handler', fn () => $s->poll(0));
    attempt('construct in handler', fn () => $s->__construct(['listen' => '127.0.0.1:0']));
    // Replacing the running handler: it finishes, the next message goes to the new one.
    $s->on('message', function (int $id, string $data) use ($s) {
        echo "second handler got $data\n";
        $s->stop();
    });
    $first = null;
    echo "first handler got $data, still running\n";
};
$s->on('message', $first);
$s->after(0.05, function () use ($c) {
    $c->send('one');
    $c->send('two');
});
$s->run();
echo "done\n";
--EXPECTF--
unknown 0: [false,false,false,false,false,false,null,false,false]
unknown -1: [false,false,false,false,false,false,null,false,false]
unknown 12345: [false,false,false,false,false,false,null,false,false]
unknown 9223372036854775807: [false,false,false,false,false,false,null,false,false]
unknown -9223372036854775808: [false,false,false,false,false,false,null,false,false]
open info: ["id","peer","path","query","subprotocol","user","pending","connected_for","messages_in","messages_out","bytes_in","bytes_out","buffered"]
close event: 1006
closed id: [false,null,false]
close code 999: Switchboard\Exception: close code 999 is not allowed (use %s)
close code 1005: Switchboard\Exception: close code 1005 is not allowed (use %s)
close code 1010: Switchboard\Exception: close code 1010 is not allowed (use %s)
close code 70000: Switchboard\Exception: close code 70000 is not allowed (use %s)
long reason: Switchboard\Exception: close reason is 124 bytes; at most 123 are allowed
reject 200: Switchboard\Exception: HTTP status 200 is not a refusal (use 400-599)
reject -1: Switchboard\Exception: HTTP status -1 is not a refusal (use 400-599)
accept option: Switchboard\Exception: unknown accept option "usr"; the options are: user, subprotocol, headers
accept user type: Switchboard\Exception: accept option "user" must be a string, int given
unknown event: Switchboard\Exception: unknown event "connect"; the events are: open, message, close, handshake, error
handshake without authorize: Switchboard\Exception: a handshake handler needs the authorize option: new Server(['authorize' => true, ...])
not callable: TypeError: Invalid value given for argument `handler`.
data type: TypeError: Invalid value given for argument `data`.
poll max: Switchboard\Exception: poll(): max must be at least 1, 0 given
clone: Error: Trying to clone an uncloneable object of class Switchboard\Server
construct again: Switchboard\Exception: the server is already constructed
run() in handler: Switchboard\Exception: run() is already running: handlers are called from it, so return from the handler instead
poll() in handler: Switchboard\Exception: poll() cannot be used while run() is running
construct in handler: Switchboard\Exception: the server is already constructed
first handler got one, still running
second handler got two
done
