--TEST--
The committed IDE stubs (switchboard.stub.php) match the loaded extension
--EXTENSIONS--
switchboard
--FILE--
<?php
$stub = file_get_contents(__DIR__ . '/../switchboard.stub.php');

/** The methods of one class of the stubs, as "params: return" by name. */
function fromStub(string $stub, string $class): array {
    preg_match('/\n    class ' . $class . ' \{\n(.*?)\n    \}\n/s', $stub, $body);
    preg_match_all('/public function (\w+)\((.*)\)(?::\s*([^{\s]+))?\s*\{\}/', $body[1] ?? '', $m, PREG_SET_ORDER);
    $methods = [];
    foreach ($m as $match) {
        [, $name, $params] = $match;
        $ret = $match[3] ?? '';
        $methods[$name] = preg_replace('/\s+/', ' ', trim($params)) . ($ret ? ": $ret" : '');
    }
    return $methods;
}

/** The same, from the loaded extension. */
function fromExt(string $class): array {
    $methods = [];
    foreach ((new ReflectionClass($class))->getMethods() as $method) {
        $params = array_map(function (ReflectionParameter $p) {
            $s = $p->getType() . ' $' . $p->getName();
            if ($p->isDefaultValueAvailable()) {
                $d = $p->getDefaultValue();
                $s .= ' = ' . ($d === null ? 'null' : ($d === '' ? "''" : var_export($d, true)));
            }
            return $s;
        }, $method->getParameters());
        $ret = $method->hasReturnType() ? ': ' . $method->getReturnType() : '';
        $methods[$method->getName()] = implode(', ', $params) . $ret;
    }
    return $methods;
}

foreach (['Server', 'Worker'] as $class) {
    $stubbed = fromStub($stub, $class);
    $loaded = fromExt("Switchboard\\$class");
    foreach (array_unique(array_merge(array_keys($stubbed), array_keys($loaded))) as $name) {
        if (($stubbed[$name] ?? null) !== ($loaded[$name] ?? null)) {
            echo "$class::$name: stub ", $stubbed[$name] ?? '(missing)', ' / extension ', $loaded[$name] ?? '(missing)', "\n";
        }
    }
    echo $class, ': ', count($loaded), " methods checked\n";
}
var_dump(str_contains($stub, 'class Exception extends \Exception'));
var_dump(str_contains($stub, "public const VERSION = '" . Switchboard\Server::VERSION . "'"));
--EXPECT--
Server: 24 methods checked
Worker: 18 methods checked
bool(true)
bool(true)
