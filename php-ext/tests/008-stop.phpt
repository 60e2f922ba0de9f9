--TEST--
stop() outside run(): graceful (1001), then every method answers its documented value
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server();
$c = new TestClient(addr($s));
$c->handshake();
$id = poll_for($s, 'open')['id'];

// The client does not answer the close, so stop() waits out close_timeout (1 s in
// test_server()) and returns; the bound leaves room for a loaded machine.
$t = microtime(true);
$s->stop();
printf("stop returned within the close timeout: %s\n", microtime(true) - $t < 1 + 5 ? 'yes' : 'no');
var_dump($c->recvClose());

// The final close event is kept for poll(), then poll() returns [] at once.
$events = $s->poll();
var_dump(count($events), $events[0]['type'], $events[0]['id'] === $id, $events[0]['code']);
// Without a deadline, a wait would never end: any bound shows that these did not wait.
$t = microtime(true);
var_dump($s->poll(), $s->poll(-1), $s->poll(PHP_INT_MAX));
printf("empty polls were immediate: %s\n", microtime(true) - $t < 5 ? 'yes' : 'no');

var_dump(
    $s->send($id, 'x'),
    $s->close($id),
    $s->broadcast('x'),
    $s->publish('t', 'x'),
    $s->subscribe($id, 't'),
    $s->unsubscribe($id, 't'),
    $s->bindUser($id, 'u'),
    $s->unbindUser($id),
    $s->sendToUser('u', 'x'),
    $s->userConnections('u'),
    $s->info($id),
    $s->accept($id),
    $s->reject($id),
);
var_dump($s->stats()['closed_by']['shutdown'], count($s->addresses()));
$s->stop();
$s->on('message', fn () => null);
var_dump(is_int($s->every(1, fn () => null)));
try {
    $s->run();
} catch (Switchboard\Exception $e) {
    echo $e->getMessage(), "\n";
}
// Arguments are still checked after stop().
try {
    $s->send($id, "\xff");
} catch (Switchboard\Exception $e) {
    echo $e->getMessage(), "\n";
}
--EXPECT--
stop returned within the close timeout: yes
array(2) {
  [0]=>
  int(1001)
  [1]=>
  string(20) "server shutting down"
}
int(1)
string(5) "close"
bool(true)
int(1001)
array(0) {
}
array(0) {
}
array(0) {
}
empty polls were immediate: yes
bool(false)
bool(false)
bool(false)
bool(false)
bool(false)
bool(false)
bool(false)
bool(false)
int(0)
array(0) {
}
NULL
bool(false)
bool(false)
int(1)
int(1)
bool(true)
the server is stopped; create a new Server to serve again
text messages must be valid UTF-8
