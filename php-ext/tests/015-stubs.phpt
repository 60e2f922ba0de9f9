--TEST--
The committed IDE stubs (switchboard.stub.php) match the loaded extension
--EXTENSIONS--
switchboard
--FILE--
<?php
$stub = file_get_contents(__DIR__ . '/../switchboard.stub.php');
// Each class's methods, keyed "Class::method".
$fromStub = [];
preg_match_all('/class (\w+) \{(.*?)\n    \}/s', $stub, $classes, PREG_SET_ORDER);
foreach ($classes as [, $class, $body]) {
    preg_match_all('/public function (\w+)\((.*)\)(?::\s*([^{\s]+))?\s*\{\}/', $body, $m, PREG_SET_ORDER);
    foreach ($m as $match) {
        [, $name, $params] = $match;
        $ret = $match[3] ?? '';
        $fromStub["$class::$name"] = preg_replace('/\s+/', ' ', trim($params)) . ($ret ? ": $ret" : '');
    }
}

$fromExt = [];
foreach ([Switchboard\Server::class, Switchboard\Client::class, Switchboard\Worker::class] as $class) {
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
        $short = substr($class, strlen('Switchboard\\'));
        $fromExt["$short::" . $method->getName()] = implode(', ', $params) . $ret;
    }
}
ksort($fromStub);
ksort($fromExt);
foreach (array_unique(array_merge(array_keys($fromStub), array_keys($fromExt))) as $name) {
    if (($fromStub[$name] ?? null) !== ($fromExt[$name] ?? null)) {
        echo "$name: stub ", $fromStub[$name] ?? '(missing)', ' / extension ', $fromExt[$name] ?? '(missing)', "\n";
    }
}
var_dump(str_contains($stub, 'class Exception extends \Exception'));
var_dump(str_contains($stub, "public const VERSION = '" . Switchboard\Server::VERSION . "'"));
echo count($fromExt), " methods checked\n";
--EXPECT--
bool(true)
bool(true)
63 methods checked
