--TEST--
poll() shapes, timeouts and max; info() and stats(); static_dir serves plain GET requests
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$dir = sys_get_temp_dir() . '/switchboard-static-' . getmypid();
@mkdir($dir);
file_put_contents("$dir/index.html", "<h1>hello</h1>\n");
$s = test_server(['static_dir' => $dir]);

// poll() waits out its timeout when nothing comes (the upper bound is only generous).
$t = microtime(true);
var_dump($s->poll(150));
$waited = microtime(true) - $t;
var_dump($waited >= 0.14 && $waited < 5);

$c = new TestClient(addr($s), '/path?q=1');
$c->handshake();
$open = poll_for($s, 'open');
echo json_encode(array_keys($open)), ' ', json_encode(array_keys($open['request'])), "\n";
// Five messages in one write arrive in one read and are queued together, so the
// first poll() that returns sees all five, and its max leaves three for the next.
$c->sendAll(['m1', 'm2', 'm3', 'm4', 'm5']);
$batch = $s->poll(5000, 2);
echo count($batch), ' ', json_encode($batch[0]), "\n";
$rest = $s->poll(0);
echo count($rest), ' ', $rest[2]['data'], "\n";

$info = $s->info($open['id']);
var_dump($info['id'] === $open['id'], $info['path'], $info['query'], $info['pending'], $info['messages_in'], $info['bytes_in']);
var_dump(is_float($info['connected_for']), $info['peer'] === $open['request']['peer']);
$s->send($open['id'], 'x');
$c->recvData();
var_dump($s->info($open['id'])['messages_out']);
echo json_encode(array_keys($s->stats())), "\n", json_encode(array_keys($s->stats()['closed_by'])), "\n";
var_dump($s->stats()['connections'], $s->stats()['messages_in']);

$c->sendClose(4000, 'app reason');
echo json_encode(poll_for($s, 'close')), "\n";

// The same port serves files to plain GET requests.
$http = stream_socket_client('tcp://' . addr($s));
fwrite($http, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
$response = stream_get_contents($http);
echo strtok($response, "\r\n"), ' ', str_contains($response, '<h1>hello</h1>') ? 'body ok' : 'no body', "\n";
unlink("$dir/index.html");
rmdir($dir);
--EXPECTF--
array(0) {
}
bool(true)
["type","id","request"] ["method","path","query","peer","subprotocol","protocols","headers","cookies"]
2 {"type":"message","id":%d,"data":"m1","binary":false}
3 m5
bool(true)
string(5) "/path"
string(3) "q=1"
bool(false)
int(5)
int(10)
bool(true)
bool(true)
int(1)
["connections","accepted","handshakes_failed","messages_in","messages_out","bytes_in","bytes_out","dropped","closed_by"]
["peer","application","protocol_error","idle_timeout","slow_consumer","abnormal","shutdown"]
int(1)
int(5)
{"type":"close","id":%d,"code":4000,"reason":"app reason","clean":true}
HTTP/1.1 200 OK body ok
