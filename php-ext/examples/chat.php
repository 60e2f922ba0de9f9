<?php
// Chat: rooms are topics, nicknames are users (every tab of a nickname gets its
// private messages), join/leave notices, and a timer that pushes the online count.
// The page in public/ is served from the same port.
//
//   php -d extension=target/release/libswitchboard_php.so php-ext/examples/chat.php 127.0.0.1:8080
//
// Client messages are JSON: {"type":"join","nick":"ann","room":"lobby"},
// {"type":"say","text":"hi"}, {"type":"dm","to":"bob","text":"psst"}.

use Switchboard\Server;

$server = new Server([
    'listen' => $argv[1] ?? '127.0.0.1:8080',
    'static_dir' => __DIR__ . '/public',
]);
$members = [];  // connection id => ['nick' => ..., 'room' => ...]

$push = fn (array $event) => json_encode($event, JSON_UNESCAPED_UNICODE);
$room = fn (string $name) => "room:$name";

$leave = function (int $id) use ($server, &$members, $push, $room) {
    if ($m = $members[$id] ?? null) {
        $server->unsubscribe($id, $room($m['room']));
        $server->publish($room($m['room']), $push(['type' => 'left'] + $m));
        unset($members[$id]);
    }
};

$server->on('message', function (int $id, string $data) use ($server, &$members, $push, $room, $leave) {
    $msg = json_decode($data, true);
    $me = $members[$id] ?? null;
    switch ($msg['type'] ?? null) {
        case 'join':
            $nick = trim((string) ($msg['nick'] ?? ''));
            $name = trim((string) ($msg['room'] ?? ''));
            if ($nick === '' || $name === '' || strlen($nick) > 32 || strlen($name) > 32) {
                $server->send($id, $push(['type' => 'error', 'text' => 'nick and room: 1 to 32 bytes']));
                return;
            }
            $leave($id);
            $members[$id] = ['nick' => $nick, 'room' => $name];
            $server->bindUser($id, $nick);
            $server->subscribe($id, $room($name));
            $server->publish($room($name), $push(['type' => 'joined', 'nick' => $nick, 'room' => $name]));
            break;
        case 'say':
            if ($me) {
                $server->publish($room($me['room']), $push(['type' => 'message', 'text' => (string) ($msg['text'] ?? '')] + $me));
            }
            break;
        case 'dm':
            if ($me) {
                $event = $push(['type' => 'dm', 'from' => $me['nick'], 'text' => (string) ($msg['text'] ?? '')]);
                $n = $server->sendToUser((string) ($msg['to'] ?? ''), $event);
                $server->send($id, $push(['type' => 'dm-sent', 'to' => $msg['to'] ?? '', 'copies' => $n]));
            }
            break;
        default:
            $server->send($id, $push(['type' => 'error', 'text' => 'unknown message']));
    }
});

$server->on('close', fn (int $id) => $leave($id));

$server->every((float) (getenv('CHAT_ONLINE_EVERY') ?: 5), function () use ($server, $push) {
    $server->broadcast($push(['type' => 'online', 'count' => $server->stats()['connections']]));
});

echo 'listening on ', implode(' ', $server->addresses()), "\n";
$server->run();
