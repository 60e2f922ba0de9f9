<?php
// Handshake authorization: a `token` query parameter or a `session` cookie names
// the user; anything else gets 401. Messages: "whoami", or "to:USER:TEXT", which
// sends TEXT to every connection of USER and answers with the number of copies.

$tokens = ['tok-ann' => 'ann', 'tok-bob' => 'bob'];
$sessions = ['sess-cid' => 'cid'];

$server = new Switchboard\Server(['listen' => $argv[1], 'authorize' => true, 'subprotocols' => ['chat.v1']]);

$server->on('handshake', function (int $id, array $request) use ($tokens, $sessions) {
    parse_str($request['query'], $query);
    $user = $tokens[$query['token'] ?? ''] ?? $sessions[$request['cookies']['session'] ?? ''] ?? null;
    if ($user === null) {
        return 401;
    }
    return ['user' => $user, 'headers' => ['X-User' => $user]];
});

$server->on('message', function (int $id, string $data) use ($server) {
    if ($data === 'whoami') {
        $server->send($id, (string) $server->info($id)['user']);
    } elseif (preg_match('/^to:([^:]+):(.*)$/s', $data, $m)) {
        $server->send($id, (string) $server->sendToUser($m[1], $m[2]));
    }
});

echo 'listening on ', implode(' ', $server->addresses()), "\n";
$server->run();
