--TEST--
TLS: tls_cert and tls_key, plain and tls:// listeners side by side, reloadTls(), errors naming the file
--EXTENSIONS--
switchboard
openssl
--FILE--
<?php
require __DIR__ . '/inc/client.php';

// A self-signed certificate and its key, made here, as PEM files.
function make_cert(string $dir, string $name): array
{
    $key = openssl_pkey_new(['private_key_type' => OPENSSL_KEYTYPE_EC, 'curve_name' => 'prime256v1']);
    $csr = openssl_csr_new(['commonName' => $name], $key, ['digest_alg' => 'sha256']);
    $cert = openssl_csr_sign($csr, null, $key, 2, ['digest_alg' => 'sha256']);
    openssl_x509_export_to_file($cert, "$dir/$name.crt");
    openssl_pkey_export_to_file($key, "$dir/$name.key");
    return ["$dir/$name.crt", "$dir/$name.key"];
}

function attempt(string $what, callable $f): void
{
    try {
        $f();
        echo "$what: accepted\n";
    } catch (Switchboard\Exception $e) {
        echo "$what: ", $e->getMessage(), "\n";
    }
}

/** The common name of the certificate the server presents to a new TLS client. */
function served_name(string $addr): string
{
    $context = stream_context_create(['ssl' => [
        'verify_peer' => false, 'verify_peer_name' => false, 'capture_peer_cert' => true,
    ]]);
    $sock = stream_socket_client("tls://$addr", $errno, $errstr, 5, STREAM_CLIENT_CONNECT, $context);
    $cert = stream_context_get_params($sock)['options']['ssl']['peer_certificate'];
    fclose($sock);
    return openssl_x509_parse($cert)['subject']['CN'];
}

$dir = sys_get_temp_dir() . '/sb-php-tls-' . getmypid();
@mkdir($dir);
[$cert, $key] = make_cert($dir, 'first');
[$cert2, $key2] = make_cert($dir, 'second');
copy($cert, "$dir/live.crt");
copy($key, "$dir/live.key");

$s = new Switchboard\Server([
    'listen' => ['tls://127.0.0.1:0', '127.0.0.1:0'],
    'threads' => 1,
    'close_timeout' => 1,
    'tls_cert' => "$dir/live.crt",
    'tls_key' => "$dir/live.key",
]);
[$secure, $plain] = $s->addresses();

$c = new TestClient($secure, '/', [], 5.0, true);
echo 'tls handshake ', $c->handshake(), "\n";
$p = new TestClient($plain);
echo 'plain handshake ', $p->handshake(), "\n";
$c->send('over tls');
$p->send('in the clear');
for ($i = 0; $i < 2; $i++) {
    $m = poll_for($s, 'message');
    $s->send($m['id'], "echo:{$m['data']}");
}
echo $c->recvData(), "\n", $p->recvData(), "\n";
echo 'served: ', served_name($secure), "\n";

// A broken key file: refused with its name, and the certificate in use stays.
file_put_contents("$dir/live.key", "not a key");
attempt('reload broken', fn () => $s->reloadTls());
echo 'served: ', served_name($secure), "\n";
// The renewed certificate: new connections get it, the open one goes on.
copy($cert2, "$dir/live.crt");
copy($key2, "$dir/live.key");
attempt('reload renewed', fn () => $s->reloadTls());
echo 'served: ', served_name($secure), "\n";
$c->send('still here');
$m = poll_for($s, 'message');
$s->send($m['id'], "echo:{$m['data']}");
echo $c->recvData(), "\n";
$s->stop();

attempt('key of another certificate', fn () => new Switchboard\Server(
    ['listen' => 'tls://127.0.0.1:0', 'tls_cert' => $cert, 'tls_key' => $key2]));
attempt('missing file', fn () => new Switchboard\Server(
    ['listen' => 'tls://127.0.0.1:0', 'tls_cert' => "$dir/missing.crt", 'tls_key' => $key]));
attempt('cert without key', fn () => new Switchboard\Server(
    ['listen' => 'tls://127.0.0.1:0', 'tls_cert' => $cert]));
attempt('tls listener without certificate', fn () => new Switchboard\Server(['listen' => 'tls://127.0.0.1:0']));
$plainOnly = test_server();
attempt('reload without TLS', fn () => $plainOnly->reloadTls());
$plainOnly->stop();
array_map('unlink', glob("$dir/*"));
rmdir($dir);
echo "done\n";
--EXPECTF--
tls handshake 101
plain handshake 101
echo:over tls
echo:in the clear
served: first
reload broken: invalid option tls_key: %slive.key: %s
served: first
reload renewed: accepted
served: second
echo:still here
key of another certificate: option "tls_key": %ssecond.key: does not fit the certificate in %sfirst.crt (%s)
missing file: option "tls_cert": %smissing.crt: %s
cert without key: options "tls_cert" and "tls_key" go together
tls listener without certificate: option "tls_cert": a tls:// listener needs a certificate and key (tls_cert, tls_key)
reload without TLS: invalid option tls_cert: no TLS certificate is configured
done
