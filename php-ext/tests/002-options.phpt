--TEST--
Options: every option accepted; unknown options, wrong types and bad values throw naming the option
--EXTENSIONS--
switchboard
--FILE--
<?php
$dir = sys_get_temp_dir();
$s = new Switchboard\Server([
    'listen' => ['127.0.0.1:0', '[::1]:0'],
    'threads' => 2,
    'reuse_port' => true,
    'max_connections' => 10,
    'max_message_size' => 1024,
    'max_buffered' => 4096,
    'max_head_size' => 4096,
    'handshake_timeout' => 2.5,
    'idle_timeout' => 30,
    'close_timeout' => 1,
    'ping_interval' => null,
    'subprotocols' => ['chat', 'superchat'],
    'require_subprotocol' => false,
    'allowed_origins' => 'https://example.com',
    'allow_missing_origin' => true,
    'authorize' => false,
    'static_dir' => $dir,
    'event_queue_events' => 100,
    'event_queue_bytes' => 100000,
    'max_unhandled_messages' => 16,
    'max_unhandled_bytes' => 65536,
    'control' => 'unix:' . $dir . '/sb-options-' . getmypid() . '.sock',
    'control_secret' => 'k',
]);
$addrs = $s->addresses();
echo count($addrs), ' ', preg_match('/^127\.0\.0\.1:\d+$/', $addrs[0]), ' ', preg_match('/^\[::1\]:\d+$/', $addrs[1] ?? '[::1]:1'), "\n";
$s->stop();
// 0: no I/O thread, the engine's loop runs inside run() and poll().
$inline = new Switchboard\Server(['listen' => '127.0.0.1:0', 'threads' => 0]);
var_dump($inline->poll(0));
$inline->stop();

$bad = [
    [],
    ['listen' => '127.0.0.1:0', 'bogus' => 1],
    ['listen' => 9000],
    ['listen' => 'localhost:9000'],
    ['listen' => ['127.0.0.1:0', 5]],
    ['listen' => '127.0.0.1:0', 'threads' => -1],
    ['listen' => '127.0.0.1:0', 'threads' => '4'],
    ['listen' => '127.0.0.1:0', 'threads' => 256],
    ['listen' => '127.0.0.1:0', 'reuse_port' => 1],
    ['listen' => '127.0.0.1:0', 'max_connections' => -1],
    ['listen' => '127.0.0.1:0', 'max_message_size' => 0],
    ['listen' => '127.0.0.1:0', 'max_buffered' => 100],
    ['listen' => '127.0.0.1:0', 'max_head_size' => 10],
    ['listen' => '127.0.0.1:0', 'handshake_timeout' => 0],
    ['listen' => '127.0.0.1:0', 'idle_timeout' => -1.5],
    ['listen' => '127.0.0.1:0', 'close_timeout' => 'soon'],
    ['listen' => '127.0.0.1:0', 'ping_interval' => 100],
    ['listen' => '127.0.0.1:0', 'ping_interval' => INF],
    ['listen' => '127.0.0.1:0', 'subprotocols' => [1]],
    ['listen' => '127.0.0.1:0', 'subprotocols' => ['a b']],
    ['listen' => '127.0.0.1:0', 'allowed_origins' => false],
    ['listen' => '127.0.0.1:0', 'authorize' => 'yes'],
    ['listen' => '127.0.0.1:0', 'static_dir' => '/nonexistent/dir'],
    ['listen' => '127.0.0.1:0', 'static_dir' => 5],
    ['listen' => '127.0.0.1:0', 'event_queue_events' => 0],
    ['listen' => '127.0.0.1:0', 'event_queue_bytes' => []],
    ['listen' => '127.0.0.1:0', 0 => 'x'],
    ['listen' => '127.0.0.1:0', 'max_unhandled_messages' => 0],
    ['listen' => '127.0.0.1:0', 'control' => '/run/x.sock'],
    ['listen' => '127.0.0.1:0', 'control' => 5],
    ['listen' => '127.0.0.1:0', 'control' => 'tcp:127.0.0.1:0'],
    ['listen' => '127.0.0.1:0', 'control' => 'unix:/nonexistent/dir/x.sock'],
    ['listen' => '127.0.0.1:0', 'control_secret' => 7],
];
foreach ($bad as $options) {
    try {
        new Switchboard\Server($options);
        echo "no exception\n";
    } catch (Switchboard\Exception $e) {
        echo $e->getMessage(), "\n";
    }
}

// A port already in use.
$a = new Switchboard\Server(['listen' => '127.0.0.1:0']);
try {
    new Switchboard\Server(['listen' => $a->addresses()[0]]);
} catch (Switchboard\Exception $e) {
    echo preg_replace('/:\d+/', ':PORT', $e->getMessage()), "\n";
}
// reuse_port lets two servers share it.
$b = new Switchboard\Server(['listen' => '127.0.0.1:0', 'reuse_port' => true]);
$c = new Switchboard\Server(['listen' => $b->addresses()[0], 'reuse_port' => true]);
var_dump($b->addresses() === $c->addresses());

// Not an array at all.
try {
    new Switchboard\Server('127.0.0.1:0');
} catch (TypeError $e) {
    echo get_class($e), "\n";
}
--EXPECTF--
2 1 1
array(0) {
}
option "listen" is required: an "IP:port" string or a list of them
unknown option "bogus"; the options are: listen, threads, reuse_port, max_connections, max_message_size, max_buffered, max_head_size, handshake_timeout, idle_timeout, close_timeout, ping_interval, subprotocols, require_subprotocol, allowed_origins, allow_missing_origin, authorize, static_dir, event_queue_events, event_queue_bytes, max_unhandled_messages, max_unhandled_bytes, tls_cert, tls_key, control, control_secret
option "listen" must be an "IP:port" (or "tls://IP:port") string or a list of them (required), int(9000) given
option "listen": "localhost:9000" is not an IP:port (or tls://IP:port) address
option "listen" must be an "IP:port" (or "tls://IP:port") string or a list of them (required), array given
option "threads" must be an int from 0 to 255 (0: no I/O thread), int(-1) given
option "threads" must be an int from 0 to 255 (0: no I/O thread), string("4") given
option "threads" must be an int from 0 to 255 (0: no I/O thread), int(256) given
option "reuse_port" must be a bool, int(1) given
option "max_connections" must be an int of at least 1, int(-1) given
option "max_message_size" must be an int from 1 to 2147483648 (bytes), int(0) given
option "max_buffered" must be an int of at least 1024 (bytes), int(100) given
option "max_head_size" must be an int from 256 to 1048576 (bytes), int(10) given
option "handshake_timeout" must be a number of seconds greater than 0, int(0) given
option "idle_timeout" must be a number of seconds greater than 0, float given
option "close_timeout" must be a number of seconds greater than 0, string("soon") given
option "ping_interval": must be shorter than idle_timeout, so a live peer can answer in time
option "ping_interval" must be a number of seconds (0 or null: no pings), float given
option "subprotocols" must be a string or a list of strings, array given
option "subprotocols": "a b" is not a token
option "allowed_origins" must be a string or a list of strings, bool given
option "authorize" must be a bool, string("yes") given
option "static_dir": /nonexistent/dir is not a directory
option "static_dir" must be a directory path string, or null, int(5) given
option "event_queue_events" must be an int of at least 1, int(0) given
option "event_queue_bytes" must be an int of at least 1, array given
unknown option "0"; the options are: listen, threads, reuse_port, max_connections, max_message_size, max_buffered, max_head_size, handshake_timeout, idle_timeout, close_timeout, ping_interval, subprotocols, require_subprotocol, allowed_origins, allow_missing_origin, authorize, static_dir, event_queue_events, event_queue_bytes, max_unhandled_messages, max_unhandled_bytes, tls_cert, tls_key, control, control_secret
option "max_unhandled_messages" must be an int of at least 1, int(0) given
option "control": "/run/x.sock": expected unix:/path/to.sock or tcp:HOST:PORT
option "control" must be a control socket address string ("unix:/path" or "tcp:HOST:PORT"), or null, int(5) given
option "control_secret": a tcp: control socket needs a secret
option "control": binding the control socket unix:/nonexistent/dir/x.sock: No such file or directory (os error 2)
option "control_secret" must be a string, int(7) given
binding 127.0.0.1:PORT: Address already in use (os error 98)
bool(true)
TypeError
