--TEST--
authorize with poll(): handshake events, accept() then an open event, rejected connections report no close
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server(['authorize' => true]);

$a = new TestClient(addr($s), '/a?token=1', ['Authorization' => 'Bearer xyz']);
$h = poll_for($s, 'handshake');
echo $h['request']['path'], ' ', $h['request']['headers']['authorization'], "\n";
var_dump($s->info($h['id'])['pending']);
var_dump($s->accept($h['id'], ['user' => 'ann', 'headers' => ['X-Welcome' => 'yes']]));
var_dump($a->handshake(), $a->header('X-Welcome'));
$open = poll_for($s, 'open');
var_dump($open['id'] === $h['id'], $open['request']['query'], $s->info($open['id'])['pending']);

$b = new TestClient(addr($s), '/b');
$h = poll_for($s, 'handshake');
var_dump($s->reject($h['id'], 401, 'who are you?'));
var_dump($b->handshake(), trim($b->rest()));

$c = new TestClient(addr($s), '/c');
$h = poll_for($s, 'handshake');
$c->disconnect();

// Neither the rejected nor the abandoned handshake produces a close event; the
// accepted connection's close does.
$a->sendClose(1000, 'done');
$close = poll_for($s, 'close');
var_dump($close['id'] === $open['id'], $close['code'], $close['reason']);
var_dump(poll_for($s, 'close', 0.3));
var_dump($s->accept($h['id']));
--EXPECT--
/a Bearer xyz
bool(true)
bool(true)
int(101)
string(3) "yes"
bool(true)
string(7) "token=1"
bool(false)
bool(true)
int(401)
string(12) "who are you?"
bool(true)
int(1000)
string(4) "done"
NULL
bool(false)
