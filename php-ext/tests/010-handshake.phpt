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
$seen = [];
$opened = [];
$s->on('handshake', function (int $id, array $req) use (&$later, &$seen) {
    parse_str($req['query'], $q);
    $what = $q['t'] ?? '';
    echo "handshake $what\n";
    $seen[$what] = true;
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
$s->on('open', function (int $id, array $req) use ($s, &$opened) {
    parse_str($req['query'], $q);
    $opened[$q['t'] ?? ''] = true;
    $info = $s->info($id);
    echo "open {$req['query']} user=", json_encode($info['user']), " protocol=", json_encode($info['subprotocol']), "\n";
});
$s->on('close', fn (int $id, int $code) => print("close $code\n"));
$s->on('error', fn (Throwable $e, string $event) => print("error in $event: {$e->getMessage()}\n"));

// Driven by what the server has handled, polled every 10 ms: one client at a time,
// the next once the last one's handshake was handled (and, if accepted at once,
// opened), so that the log's order is fixed; then the deferred decisions, then the
// clients' view once the deferred accept has opened.
$order = ['cookie', 'token', 'deny', 'status', 'bad-type', 'bad-status', 'bad-header', 'throw', 'later-accept', 'later-reject'];
$clients = [];
$decided = false;
$s->every(0.01, function () use ($s, $order, &$clients, &$later, &$seen, &$opened, &$decided) {
    $last = array_key_last($clients);
    if ($last !== null && (!isset($seen[$last]) || (in_array($last, ['cookie', 'token'], true) && !isset($opened[$last])))) {
        return;
    }
    if (count($clients) < count($order)) {
        $t = $order[count($clients)];
        $headers = $t === 'cookie' ? ['Cookie' => 'session=good', 'Sec-WebSocket-Protocol' => 'v1, v2'] : [];
        $clients[$t] = new TestClient(addr($s), "/?t=$t", $headers);
        return;
    }
    if (!$decided) {
        $decided = true;
        foreach ($later as [$id, $what]) {
            var_dump($what === 'later-accept' ? $s->accept($id, ['user' => 'bob']) : $s->reject($id, 429, 'slow down'));
            var_dump($s->accept($id)); // decided already
        }
        return;
    }
    if (!isset($opened['later-accept'])) {
        return;
    }
    foreach ($clients as $t => $c) {
        echo "$t: ", $c->handshake(), ' ', $c->header('Set-Cookie') ?? '-', "\n";
    }
    var_dump(count($s->userConnections('alice')), $s->sendToUser('alice', 'hi alice'));
    echo $clients['cookie']->recvData(), "\n";
    $s->stop();
});
$s->after(30, function () use ($s) {
    echo "timed out\n";
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
