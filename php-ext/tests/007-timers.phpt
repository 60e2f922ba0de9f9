--TEST--
Timers: every() and after() fire on the PHP thread inside run(), can be cleared, bad delays throw
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server();
$start = microtime(true);
$log = [];

$ticks = 0;
$every = $s->every(0.05, function (int $timer) use (&$ticks, &$every) {
    if ($timer !== $every) echo "wrong timer id\n";
    $ticks++;
});
$self = $s->every(0.01, function (int $timer) use ($s, &$log) {
    $log[] = 'self-clearing';
    var_dump($s->clearTimer($timer));
});
$a = $s->after(0.2, function (int $timer) use ($s, &$log) {
    $log[] = 'after 0.2';
    // A timer added from a timer, with delay 0: fires on a later pass, not at once.
    $s->after(0, function () use (&$log) { $log[] = 'after 0 (nested)'; });
    $log[] = 'after 0.2 end';
});
$cancelled = $s->after(0.1, function () use (&$log) { $log[] = 'cancelled timer fired'; });
var_dump($s->clearTimer($cancelled), $s->clearTimer($cancelled), $s->clearTimer(12345));
var_dump($every < $self && $self < $a && $a < $cancelled);

$s->after(0.5, function () use ($s, &$log, $start) {
    $log[] = sprintf('stop after %.1f', microtime(true) - $start);
    $s->stop();
});

// Timers only fire inside run(): poll() leaves them alone.
$s->poll(0);
var_dump($log);

$s->run();
echo implode("\n", $log), "\n";
var_dump($ticks >= 7 && $ticks <= 11);

foreach ([[-1, 'after'], [NAN, 'after'], [INF, 'every'], [0, 'every'], [0.0001, 'every'], [1e10, 'after']] as [$d, $m]) {
    try {
        $s->$m($d, fn () => null);
        echo "$m($d): accepted\n";
    } catch (Switchboard\Exception $e) {
        echo $e->getMessage(), "\n";
    }
}
try {
    $s->every(1, 'no_such_function');
} catch (TypeError $e) {
    echo "TypeError\n";
}
--EXPECT--
bool(true)
bool(false)
bool(false)
bool(true)
array(0) {
}
bool(true)
self-clearing
after 0.2
after 0.2 end
after 0 (nested)
stop after 0.5
bool(true)
after(): -1 is not a number of seconds from 0 to one year
after(): NaN is not a number of seconds from 0 to one year
every(): inf is not a number of seconds from 0.001 to one year
every(): 0 is not a number of seconds from 0.001 to one year
every(): 0.0001 is not a number of seconds from 0.001 to one year
after(): 10000000000 is not a number of seconds from 0 to one year
TypeError
