--TEST--
exit() inside a handler ends the script normally: run() returns at once, shutdown functions run
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server();
register_shutdown_function(function () use ($s) {
    echo "shutdown function, stats available: ", isset($s->stats()['connections']) ? 'yes' : 'no', "\n";
});
$s->after(0.01, function () {
    echo "exiting\n";
    exit(0);
});
$s->after(0.02, fn () => print("never\n"));
$s->run();
echo "not reached\n";
--EXPECT--
exiting
shutdown function, stats available: yes
