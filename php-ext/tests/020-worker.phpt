--TEST--
Switchboard\Worker: attaching fails with the cause; options and events are checked
--EXTENSIONS--
switchboard
--FILE--
<?php
foreach ([
    fn() => new Switchboard\Worker('unix:/nonexistent/sb.sock'),
    fn() => new Switchboard\Worker('unix:/nonexistent/sb.sock', ['secret' => 7]),
    fn() => new Switchboard\Worker('unix:/nonexistent/sb.sock', ['threads' => 2]),
] as $attach) {
    try {
        $attach();
        echo "attached?\n";
    } catch (Switchboard\Exception $e) {
        echo $e->getMessage(), "\n";
    }
}
echo method_exists(Switchboard\Worker::class, 'sendToUser') ? "ok\n" : "missing\n";
--EXPECT--
cannot attach to the operator: connecting to unix:/nonexistent/sb.sock: No such file or directory (os error 2)
option "secret" must be a string, int given
unknown option "threads"; the options are: secret
ok
