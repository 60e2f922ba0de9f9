--TEST--
authorize: the handshake handler accepts (user, headers, subprotocol), rejects, defers; misuse answers 500
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server(['authorize' => true, 'subprotocols' => ['v1', 'v2']]);
try {
    $s->run();
} catch (Switchboard\Exception $e) {
    echo $e->getMessage(), "\n";
}

$later = [];
$s->on('handshake', function (int $id, array $req) use (&$later) {
    parse_str($req['query'], $q);
    $what = $q['t'] ?? '';
    echo "handshake $what\n";
    return match (true) {
        ($req['cookies']['session'] ?? '') === 'good' =>
            ['user' => 'alice', 'headers' => ['Set-Cookie' => 'seen=1; HttpOnly'], 'subprotocol' => 'v2'],
        $what === 'token' => true,
        $what === 'deny' => false,
        $what === 'status' => 401,
        $what === 'bad-type' => 'yes',
        $what === 'bad-status' => 200,
        $what === 'bad-header' => ['headers' => ["X-A\r\nX-B" => 'x']],
        $what === 'throw' => throw new RuntimeException('no way'),
        default => ($later[] = [$id, $what]) ? null : null,
    };
});
$s->on('open', function (int $id, array $req) use ($s) {
    $info = $s->info($id);
    echo "open {$req['query']} user=", json_encode($info['user']), " protocol=", json_encode($info['subprotocol']), "\n";
});
$s->on('close', fn (int $id, int $code) => print("close $code\n"));
$s->on('error', fn (Throwable $e, string $event) => print("error in $event: {$e->getMessage()}\n"));

$clients = [];
$s->after(0.05, function () use ($s, &$clients) {
    foreach (['cookie', 'token', 'deny', 'status', 'bad-type', 'bad-status', 'bad-header', 'throw', 'later-accept', 'later-reject'] as $t) {
        $headers = $t === 'cookie' ? ['Cookie' => 'session=good', 'Sec-WebSocket-Protocol' => 'v1, v2'] : [];
        $clients[$t] = new TestClient(addr($s), "/?t=$t", $headers);
        usleep(20000); // keep the order of the log stable
    }
});
$s->after(0.5, function () use ($s, &$later) {
    foreach ($later as [$id, $what]) {
        var_dump($what === 'later-accept' ? $s->accept($id, ['user' => 'bob']) : $s->reject($id, 429, 'slow down'));
        var_dump($s->accept($id)); // decided already
    }
});
$s->after(0.8, function () use ($s, &$clients) {
    foreach ($clients as $t => $c) {
        echo "$t: ", $c->handshake(), ' ', $c->header('Set-Cookie') ?? '-', "\n";
    }
    var_dump(count($s->userConnections('alice')), $s->sendToUser('alice', 'hi alice'));
    echo $clients['cookie']->recvData(), "\n";
    $s->stop();
});
$s->run();
--EXPECTF--
the authorize option needs a handshake handler: call on('handshake', ...) before run()
handshake cookie
open t=cookie user="alice" protocol="v2"
handshake token
open t=token user=null protocol=null
handshake deny
handshake status
handshake bad-type
error in handshake: a handshake handler must return true, false, an HTTP status, an options array or null, not string
handshake bad-status
error in handshake: HTTP status 200 is not a refusal (use 400-599)
handshake bad-header
error in handshake: invalid response header "X-A\r\nX-B: x"
handshake throw
error in handshake: no way
handshake later-accept
handshake later-reject
bool(true)
bool(false)
bool(true)
bool(false)
open t=later-accept user="bob" protocol=null
cookie: 101 seen=1; HttpOnly
token: 101 -
deny: 403 -
status: 401 -
bad-type: 500 -
bad-status: 500 -
bad-header: 500 -
throw: 500 -
later-accept: 101 -
later-reject: 429 -
int(1)
int(1)
hi alice
close 1001
close 1001
close 1001
