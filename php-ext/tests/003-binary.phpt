--TEST--
Binary safety: NUL bytes and invalid UTF-8 round-trip in binary messages; text must be UTF-8
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server();
$c = new TestClient(addr($s));
var_dump($c->handshake());
$open = poll_for($s, 'open');
$id = $open['id'];
var_dump(is_int($id) && $id !== 0);

$blob = "a\0b\xff\xfe\x80z" . str_repeat("\0\xff", 40000);
$c->send($blob, TestClient::BINARY);
$m = poll_for($s, 'message');
var_dump($m['id'] === $id, $m['binary'], strlen($m['data']), $m['data'] === $blob);
var_dump($s->send($id, $m['data'], true));
$back = $c->recv();
var_dump($back[0] === TestClient::BINARY, $back[1] === $blob);

// Text with a NUL byte and multibyte characters.
$text = "h\0é €𝄞";
$c->send($text);
$m = poll_for($s, 'message');
var_dump($m['binary'], $m['data'] === $text);
var_dump($s->send($id, $m['data']));
var_dump($c->recv() === [TestClient::TEXT, $text]);

// Invalid UTF-8 as text throws everywhere text is sent; as binary it is fine.
foreach (['send' => fn () => $s->send($id, "\xff"),
          'broadcast' => fn () => $s->broadcast("\xc3"),
          'publish' => fn () => $s->publish('t', "a\x80"),
          'sendToUser' => fn () => $s->sendToUser('u', "\xed\xa0\x80")] as $name => $f) {
    try {
        $f();
        echo "$name: no exception\n";
    } catch (Switchboard\Exception $e) {
        echo "$name: ", $e->getMessage(), "\n";
    }
}
var_dump($s->send($id, "\xff", true));
var_dump(bin2hex($c->recv()[1]));

// A client sending invalid UTF-8 as text is closed with 1007 by the engine (once
// the application has taken the events before it).
$c->send("\xff\xfe");
$close = poll_for($s, 'close');
var_dump($close['code']);
var_dump($c->recvClose());
--EXPECTF--
int(101)
bool(true)
bool(true)
bool(true)
int(80007)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
send: text messages must be valid UTF-8
broadcast: text messages must be valid UTF-8
publish: text messages must be valid UTF-8
sendToUser: text messages must be valid UTF-8
bool(true)
string(2) "ff"
int(1007)
array(2) {
  [0]=>
  int(1007)
  [1]=>
  string(%d) "%s"
}
