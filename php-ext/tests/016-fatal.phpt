--TEST--
A fatal error inside a handler ends the script (in inline mode too, where message handlers run inside the engine's loop)
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server(['threads' => 0]);
register_shutdown_function(function () {
    echo "shutdown function\n";
});
$s->on('message', function (int $id, string $data) {
    echo "message $data\n";
    trigger_error("boom", E_USER_ERROR);
});
$s->after(0.02, function () use ($s) {
    $c = new TestClient(addr($s));
    $c->handshake();
    $c->send('one');
    $c->send('two');
});
$s->run();
echo "not reached\n";
--EXPECTF--
message one

Fatal error: boom in %s on line %d
shutdown function
