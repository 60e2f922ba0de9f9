--TEST--
Topics and users: subscribe/unsubscribe/publish, broadcast with except, bindUser/sendToUser across connections
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server();
$c = $id = [];
foreach ([1, 2, 3] as $n) {
    $c[$n] = new TestClient(addr($s), '/', [], 0.3);
    $c[$n]->handshake();
    $id[$n] = poll_for($s, 'open')['id'];
}
function got(array $clients): string
{
    $out = [];
    foreach ($clients as $n => $client) {
        $out[] = "$n:" . ($client->recvData() ?? '-');
    }
    return implode(' ', $out);
}

var_dump($s->subscribe($id[1], 'room'), $s->subscribe($id[2], 'room'), $s->subscribe($id[2], 'room'));
var_dump($s->publish('room', 'p1'));
echo got($c), "\n";
var_dump($s->publish('room', 'p2', false, $id[1]));
echo got($c), "\n";
var_dump($s->unsubscribe($id[2], 'room'), $s->unsubscribe($id[3], 'never'));
$s->publish('room', "\x00bin", true);
echo bin2hex($c[1]->recvData()), ' ', got([2 => $c[2], 3 => $c[3]]), "\n";
var_dump($s->publish('empty-topic', 'nobody'));

var_dump($s->broadcast('b1'));
echo got($c), "\n";
$s->broadcast('b2', false, $id[2]);
echo got($c), "\n";

var_dump($s->bindUser($id[1], 'ann'), $s->bindUser($id[3], 'ann'), $s->bindUser($id[2], 'bob'));
$conns = $s->userConnections('ann');
sort($conns);
var_dump($conns === [min($id[1], $id[3]), max($id[1], $id[3])]);
var_dump($s->sendToUser('ann', 'to ann'));
echo got($c), "\n";
var_dump($s->info($id[3])['user'], $s->info($id[2])['user']);
// Rebinding moves the connection to the new user.
var_dump($s->bindUser($id[3], 'bob'), $s->sendToUser('bob', 'to bob', true));
echo got($c), "\n";
var_dump($s->unbindUser($id[3]), $s->info($id[3])['user'], $s->sendToUser('bob', 'bob again'));
echo got($c), "\n";
var_dump($s->sendToUser('nobody', 'x'), $s->userConnections('nobody'));

// A closed connection leaves its user and topics.
$c[1]->sendClose();
poll_for($s, 'close');
var_dump($s->userConnections('ann'), $s->sendToUser('ann', 'x'));
$stats = $s->stats();
var_dump($stats['connections'], $stats['messages_out'] > 0, $stats['closed_by']['peer']);
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
1:p1 2:p1 3:-
bool(true)
1:- 2:p2 3:-
bool(true)
bool(true)
0062696e 2:- 3:-
bool(true)
bool(true)
1:b1 2:b1 3:b1
1:b2 2:- 3:b2
bool(true)
bool(true)
bool(true)
bool(true)
int(2)
1:to ann 2:- 3:to ann
string(3) "ann"
string(3) "bob"
bool(true)
int(2)
1:- 2:to bob 3:to bob
bool(true)
NULL
int(1)
1:- 2:bob again 3:-
int(0)
array(0) {
}
array(0) {
}
int(0)
int(2)
bool(true)
int(1)
