--TEST--
Client: publishing through a server's control socket, errors as Switchboard\Exception, reconnection after a restart
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$dir = sys_get_temp_dir() . '/sb-phpt-client-' . getmypid();
@mkdir($dir);
$sock = "$dir/ctl.sock";
$s = test_server(['control' => "unix:$sock"]);
$c = $id = [];
foreach ([1, 2] as $n) {
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
function attempt(callable $f): void
{
    try {
        $r = $f();
        echo 'returned ', var_export($r, true), "\n";
    } catch (Switchboard\Exception $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

$client = new Switchboard\Client("unix:$sock");
var_dump($client->address() === "unix:$sock");
var_dump($client->subscribe($id[1], 'news'), $client->subscribe($id[2], 'news'));
var_dump($client->publish('news', 'p1'));
echo got($c), "\n";
var_dump($client->publish('news', 'p2', false, $id[1]));
echo got($c), "\n";
var_dump($client->bindUser($id[1], 'ann'), $client->bindUser($id[2], 'ann'));
var_dump($client->sendToUser('ann', 'to ann'));
echo got($c), "\n";
$ids = $client->userConnections('ann');
sort($ids);
var_dump($ids === [min($id), max($id)]);
var_dump($client->unbindUser($id[2]), $client->userConnections('ann') === [$id[1]]);
var_dump($client->send($id[2], "\x00\xff", true));
echo bin2hex($c[2]->recvData()), "\n";
var_dump($client->broadcast('all', false, $id[2]));
echo got($c), "\n";
var_dump($client->unsubscribe($id[1], 'news'));
$stats = $client->stats();
var_dump($stats['connections'], is_int($stats['messages_out']));
// A second object shares the process's connection.
$again = new Switchboard\Client("unix:$sock", ['timeout' => 2]);
var_dump($again->stats()['control_connections'] ?? 1);

echo "-- misuse\n";
var_dump($client->send(999999, 'x'), $client->close(999999));
attempt(fn () => $client->send($id[1], "\xff"));
attempt(fn () => $client->close($id[1], 999));
attempt(fn () => $client->close($id[1], 70000));
attempt(fn () => new Switchboard\Client('/tmp/x.sock'));
attempt(fn () => new Switchboard\Client("unix:$sock", ['bogus' => 1]));
attempt(fn () => new Switchboard\Client("unix:$sock", ['timeout' => 0]));
attempt(fn () => new Switchboard\Client("unix:$sock", ['secret' => 5]));
attempt(fn () => (new Switchboard\Client("unix:$dir/missing.sock"))->publish('t', 'x'));

echo "-- close\n";
var_dump($client->close($id[1], 4000, 'bye'));
var_dump($c[1]->recvClose());

echo "-- tcp with a secret\n";
$probe = stream_socket_server('tcp://127.0.0.1:0');
$port = (int) substr(strrchr(stream_socket_get_name($probe, false), ':'), 1);
fclose($probe);
$t = test_server(['control' => "tcp:127.0.0.1:$port", 'control_secret' => 's3cret']);
attempt(fn () => (new Switchboard\Client("tcp:127.0.0.1:$port", ['secret' => 'wrong']))->stats());
attempt(fn () => (new Switchboard\Client("tcp:127.0.0.1:$port"))->stats());
var_dump((new Switchboard\Client("tcp:127.0.0.1:$port", ['secret' => 's3cret']))->broadcast('x'));
$t->stop();

echo "-- restart\n";
$s->stop();
$s = null;
attempt(fn () => $client->publish('news', 'down'));
$s = test_server(['control' => "unix:$sock"]);
var_dump($client->publish('news', 'after restart'));
var_dump($client->stats()['connections']);
$client->disconnect();
var_dump($client->stats()['connections']);
$s->stop();
@rmdir($dir);
?>
--EXPECTF--
bool(true)
bool(true)
bool(true)
bool(true)
1:p1 2:p1
bool(true)
1:- 2:p2
bool(true)
bool(true)
int(2)
1:to ann 2:to ann
bool(true)
bool(true)
bool(true)
bool(true)
00ff
bool(true)
1:all 2:-
bool(true)
int(2)
bool(true)
int(1)
-- misuse
bool(false)
bool(false)
Switchboard\Exception: control socket unix:%s/ctl.sock: invalid: %s
Switchboard\Exception: control socket unix:%s/ctl.sock: invalid: %s
Switchboard\Exception: close code 70000 is not allowed
Switchboard\Exception: control socket /tmp/x.sock: %s
Switchboard\Exception: unknown option "bogus"; the options are: secret, timeout
Switchboard\Exception: option "timeout": 0 is not a number of seconds from 0.001 to 3600
Switchboard\Exception: option "secret": expected a string, got int
Switchboard\Exception: control socket unix:%s/missing.sock: cannot connect: %s
-- close
bool(true)
array(2) {
  [0]=>
  int(4000)
  [1]=>
  string(3) "bye"
}
-- tcp with a secret
Switchboard\Exception: control socket tcp:127.0.0.1:%d: unauthorized (wrong secret?): %s
Switchboard\Exception: control socket tcp:127.0.0.1:%d: unauthorized (wrong secret?): %s
bool(true)
-- restart
Switchboard\Exception: control socket unix:%s/ctl.sock: %s
bool(true)
int(0)
int(0)
