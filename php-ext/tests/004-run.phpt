--TEST--
run(): open/message/close handlers with the request, replies, stop() from a handler, 1001 on shutdown
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server(['subprotocols' => ['chat']]);
$log = [];
$c1 = $c2 = null;

$s->on('open', function (int $id, array $req) use (&$log) {
    ksort($req['headers']);
    $log[] = ['open', $req['method'], $req['path'], $req['query'], $req['subprotocol'], $req['protocols'],
              $req['cookies'], $req['headers']['x-token'] ?? null, $req['headers']['cookie'] ?? null,
              (bool) preg_match('/^127\.0\.0\.1:\d+$/', $req['peer'])];
});
$s->on('message', function (int $id, string $data, bool $binary) use ($s, &$log, &$c1) {
    $log[] = ['message', $data, $binary];
    $s->send($id, "echo:$data", $binary);
    if ($binary) {
        // Both echoes are on their way: read them, then say goodbye.
        $s->after(0.01, function () use (&$c1) {
            var_dump($c1->recvData(), bin2hex($c1->recvData()));
            $c1->sendClose(1000, 'bye');
        });
    }
});
$s->on('close', function (int $id, int $code, string $reason, bool $clean) use ($s, &$log) {
    $log[] = ['close', $code, $reason, $clean];
    if ($reason === 'bye') {
        $s->stop();
        $s->stop(); // idempotent
    }
});

$s->after(0.05, function () use ($s, &$c1, &$c2) {
    $c2 = new TestClient(addr($s));
    $c2->handshake();
    $c1 = new TestClient(addr($s), '/chat?room=1&x=%20', [
        'X-Token' => 'tok', 'Cookie' => 'a=1; session="abc"', 'cookie' => 'b=2; a=9',
        'Sec-WebSocket-Protocol' => 'v2, chat',
    ]);
    echo 'c1 status ', $c1->handshake(), ' protocol ', $c1->header('Sec-WebSocket-Protocol'), "\n";
    $c1->send('hello');
    $c1->send("\x01\x02", TestClient::BINARY);
});
$s->after(30, function () use ($s) {
    echo "timed out\n";
    $s->stop();
});

$t = microtime(true);
$s->run();
echo "run returned\n";
var_dump(microtime(true) - $t < 10);
var_dump($c2->recvClose()[0]);
foreach ($log as $entry) {
    echo json_encode($entry), "\n";
}
var_dump($s->stats()['connections']);
--EXPECT--
c1 status 101 protocol chat
string(10) "echo:hello"
string(14) "6563686f3a0102"
run returned
bool(true)
int(1001)
["open","GET","\/","",null,[],[],null,null,true]
["open","GET","\/chat","room=1&x=%20","chat",["v2","chat"],{"a":"1","session":"abc","b":"2"},"tok","a=1; session=\"abc\"; b=2; a=9",true]
["message","hello",false]
["message","\u0001\u0002",true]
["close",1000,"bye",true]
["close",1001,"server shutting down",false]
int(0)
