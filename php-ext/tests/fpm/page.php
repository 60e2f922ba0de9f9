<?php
// The PHP-FPM page: publishes through the control socket. Query: control=unix:..., do=publish
// (topic, msg) | user (user, msg) | stats (with workers= on an operator) | server (tries to start a Server).
// Prints one line: the result or the exception.
try {
    if ($_GET['do'] === 'server') {
        // The trap: a server started by a web request. The extension refuses it.
        new Switchboard\Server(['listen' => '127.0.0.1:0', 'reuse_port' => true]);
        echo "started\n";
        return;
    }
    $client = new Switchboard\Client($_GET['control'], ['timeout' => 5]);
    switch ($_GET['do']) {
        case 'publish':
            echo var_export($client->publish($_GET['topic'], $_GET['msg']), true), "\n";
            break;
        case 'user':
            echo $client->sendToUser($_GET['user'], $_GET['msg']), "\n";
            break;
        case 'stats':
            $s = $client->stats();
            $workers = isset($s['workers']) ? " workers={$s['workers']}" : '';
            echo "connections={$s['connections']} control_connections={$s['control_connections']}$workers pid=", getmypid(), "\n";
            break;
    }
} catch (Switchboard\Exception $e) {
    echo 'Switchboard\Exception: ', $e->getMessage(), "\n";
}
