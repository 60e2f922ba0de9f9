--TEST--
Signals: run() stops gracefully on SIGTERM/SIGINT the script does not handle; pcntl handlers run while run() waits
--EXTENSIONS--
switchboard
--SKIPIF--
<?php if (!function_exists('posix_kill') || !function_exists('pcntl_signal')) die('skip pcntl and posix needed');
--FILE--
<?php
require __DIR__ . '/inc/client.php';
// A shell that started us in the background may have left SIGINT ignored.
pcntl_signal(SIGINT, SIG_DFL);
pcntl_signal(SIGTERM, SIG_DFL);

foreach ([SIGTERM, SIGINT] as $signo) {
    $s = test_server();
    $c = null;
    $s->after(0.05, function () use ($s, &$c, $signo) {
        $c = new TestClient(addr($s));
        $c->handshake();
        posix_kill(posix_getpid(), $signo);
    });
    $s->after(10, function () use ($s) {
        echo "signal not handled\n";
        $s->stop();
    });
    $t = microtime(true);
    $s->run();
    // The stop takes the close handshake (1 s close_timeout at most) plus room for a
    // loaded machine; the 10 s guard above would mean the signal was not handled.
    printf("run() returned after signal %d: %s\n", $signo, microtime(true) - $t < 6 ? 'quickly' : 'slowly');
    var_dump($c->recvClose()[0]);
    // The default disposition is back once run() has returned.
    var_dump(pcntl_signal_get_handler($signo) === SIG_DFL);
}

// A signal from another process, while run() waits for events.
function kill_later(float $delay, string $signal): void
{
    exec(sprintf('(sleep %.2f; kill -%s %d) > /dev/null 2>&1 &', $delay, $signal, posix_getpid()));
}

// The script's own async handlers: they run while run() waits, and decide. Each
// signal is sent once run() runs, the second once the first was handled.
pcntl_async_signals(true);
$s = test_server();
pcntl_signal(SIGTERM, function () {
    echo "script's SIGTERM handler\n";
    kill_later(0.1, 'USR1');
});
pcntl_signal(SIGUSR1, function () use ($s) {
    echo "script's SIGUSR1 handler stops the server\n";
    $s->stop();
});
$s->after(0, fn () => kill_later(0.1, 'TERM'));
$s->after(10, function () use ($s) {
    echo "the signals were not handled\n";
    $s->stop();
});
$t = microtime(true);
$s->run();
printf("run() returned %s\n", microtime(true) - $t < 6 ? 'soon after SIGUSR1' : 'late');
var_dump(is_callable(pcntl_signal_get_handler(SIGTERM)));

// A handler that throws is reported like any other.
$s = test_server();
pcntl_signal(SIGUSR2, function () use ($s) {
    $s->after(0.1, fn () => $s->stop());
    throw new RuntimeException('from a signal handler');
});
$s->on('error', fn (Throwable $e, string $event) => print("error in $event: {$e->getMessage()}\n"));
$s->after(0, fn () => kill_later(0.1, 'USR2'));
$s->after(10, function () use ($s) {
    echo "SIGUSR2 was not handled\n";
    $s->stop();
});
$s->run();

// poll() returns early, empty, once a pcntl handler ran; run() cannot start there.
// Nothing tells another process that poll() waits, so SIGUSR1 comes every 0.2 s
// until poll() has returned; the handler ignores one that comes before or after.
$s = test_server();
$polling = false;
$handled = false;
pcntl_signal(SIGUSR1, function () use ($s, &$polling, &$handled) {
    if (!$polling || $handled) {
        return;
    }
    $handled = true;
    try {
        $s->run();
    } catch (Switchboard\Exception $e) {
        echo "in the handler: ", $e->getMessage(), "\n";
    }
});
$sender = (int) exec(sprintf(
    '(for i in $(seq 50); do sleep 0.2; kill -USR1 %d || exit; done) > /dev/null 2>&1 & echo $!',
    posix_getpid(),
));
$polling = true;
var_dump($s->poll(-1));
$polling = false;
if ($sender > 0) {
    posix_kill($sender, SIGKILL);
}
printf("poll() returned %s\n", $handled ? 'after the signal' : 'without the signal');
echo "done\n";
--EXPECT--
run() returned after signal 15: quickly
int(1001)
bool(true)
run() returned after signal 2: quickly
int(1001)
bool(true)
script's SIGTERM handler
script's SIGUSR1 handler stops the server
run() returned soon after SIGUSR1
bool(true)
error in signal: from a signal handler
in the handler: run() cannot be called while poll() is waiting
array(0) {
}
poll() returned after the signal
done
