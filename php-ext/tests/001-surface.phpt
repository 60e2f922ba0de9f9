--TEST--
API surface: classes, methods, signatures, the exception class
--EXTENSIONS--
switchboard
--FILE--
<?php
var_dump(extension_loaded('switchboard'));
var_dump(class_exists(Switchboard\Server::class), class_exists(Switchboard\Exception::class));
var_dump(is_subclass_of(Switchboard\Exception::class, Exception::class));
var_dump(Switchboard\Server::VERSION === phpversion('switchboard'));

$r = new ReflectionClass(Switchboard\Server::class);
foreach ($r->getMethods() as $m) {
    $params = array_map(function (ReflectionParameter $p) {
        $s = $p->getType() . ' $' . $p->getName();
        if ($p->isDefaultValueAvailable()) {
            $s .= ' = ' . var_export($p->getDefaultValue(), true);
        }
        return $s;
    }, $m->getParameters());
    $ret = $m->hasReturnType() ? ': ' . $m->getReturnType() : '';
    echo $m->getName(), '(', implode(', ', $params), ')', $ret, "\n";
}

// The exception is a real PHP exception: constructible, with file and line.
$e = new Switchboard\Exception('m', 7);
var_dump($e->getMessage(), $e->getCode(), $e->getLine());
try {
    new Switchboard\Server(['listen' => 'nope']);
} catch (Switchboard\Exception $e) {
    echo get_class($e), ': ', $e->getMessage(), ' @ line ', $e->getLine(), "\n";
}
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
on(string $event, callable $handler): void
run(): void
stop(): void
poll(int $timeout_ms = -1, int $max = 1024): array
send(int $id, string $data, bool $binary = false): bool
close(int $id, int $code = 1000, string $reason = ''): bool
broadcast(string $data, bool $binary = false, int $except = 0): bool
subscribe(int $id, string $topic): bool
unsubscribe(int $id, string $topic): bool
publish(string $topic, string $data, bool $binary = false, int $except = 0): bool
bindUser(int $id, string $user): bool
unbindUser(int $id): bool
sendToUser(string $user, string $data, bool $binary = false): int
userConnections(string $user): array
accept(int $id, ?array $options = NULL): bool
reject(int $id, int $status = 403, string $body = ''): bool
info(int $id): ?array
reloadTls(): void
stats(): array
eventFd(): int
addresses(): array
every(float $seconds, callable $callback): int
after(float $seconds, callable $callback): int
clearTimer(int $timer): bool
__construct(array $options)
string(1) "m"
int(7)
int(21)
Switchboard\Exception: option "listen": "nope" is not an IP:port (or tls://IP:port) address @ line 24
