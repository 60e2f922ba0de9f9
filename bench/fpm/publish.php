<?php
// The PHP-FPM page of bench/fpm-publish.sh: 10 publishes to the topic "news" through
// Switchboard\Client, whose connection the FPM child keeps across requests. The control
// address comes from the web server (fastcgi_param SWITCHBOARD_CONTROL). Answers "ok", or
// 500 and the cause.
$client = new Switchboard\Client($_SERVER['SWITCHBOARD_CONTROL']);
try {
    for ($i = 0; $i < 10; $i++) {
        $sent = $client->publish('news', json_encode(['seq' => $i, 'pid' => getmypid(), 'at' => microtime(true)]));
        if ($sent !== true) {
            throw new Switchboard\Exception("publish $i returned " . var_export($sent, true));
        }
    }
    echo "ok\n";
} catch (Switchboard\Exception $e) {
    http_response_code(500);
    echo $e->getMessage(), "\n";
}
