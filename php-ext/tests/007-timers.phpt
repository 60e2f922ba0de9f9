--TEST--
Timers: every() and after() fire on the PHP thread inside run(), can be cleared, bad delays throw
--EXTENSIONS--
switchboard
--FILE--
<?php
require __DIR__ . '/inc/client.php';
$s = test_server();
$start = hrtime(true);
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

// A timer never fires early; the upper bound only catches one that never comes.
// The stop comes on a later pass, after the nested timer even on a slow machine.
$ran = 0.0;
$s->after(0.5, function () use ($s, &$log, &$ran, $start) {
    $elapsed = (hrtime(true) - $start) / 1e9;
    $s->after(0, function () use ($s, &$log, &$ran, $start, $elapsed) {
        $log[] = 'stop after 0.5 s: ' . ($elapsed >= 0.5 && $elapsed < 10 ? 'yes' : sprintf('no, %.3f s', $elapsed));
        $ran = (hrtime(true) - $start) / 1e9;
        $s->stop();
    });
});

// Timers only fire inside run(): poll() leaves them alone.
$s->poll(0);
var_dump($log);

$s->run();
echo implode("\n", $log), "\n";
// every(0.05) fired repeatedly, and never ahead of its schedule (one tick per 50 ms
// at most); a loaded machine may delay ticks, and a late tick is not caught up.
$ok = $ticks >= 3 && $ticks <= $ran / 0.05 + 0.5;
var_dump($ok);
if (!$ok) printf("%d ticks in %.3f s\n", $ticks, $ran);

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
stop after 0.5 s: yes
bool(true)
after(): -1 is not a number of seconds from 0 to one year
after(): NaN is not a number of seconds from 0 to one year
every(): inf is not a number of seconds from 0.001 to one year
every(): 0 is not a number of seconds from 0.001 to one year
every(): 0.0001 is not a number of seconds from 0.001 to one year
after(): 10000000000 is not a number of seconds from 0 to one year
TypeError
