<?php
// A minimal blocking WebSocket client for the .phpt tests (masked frames, no
// fragmentation), plus helpers. Real clients are used by the end-to-end tests.

final class TestClient
{
    public const TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10;

    /** @var resource */
    private $sock;
    public string $response = '';
    public int $status = 0;

    /** With $tls, the connection speaks TLS (any certificate is taken: the tests check the server). */
    public function __construct(string $addr, string $path = '/', array $headers = [], float $timeout = 5.0, bool $tls = false)
    {
        $context = stream_context_create(['ssl' => [
            'verify_peer' => false, 'verify_peer_name' => false, 'alpn_protocols' => 'http/1.1',
        ]]);
        $scheme = $tls ? 'tls' : 'tcp';
        $sock = stream_socket_client("$scheme://$addr", $errno, $errstr, $timeout, STREAM_CLIENT_CONNECT, $context);
        if ($sock === false) {
            throw new RuntimeException("connect $addr: $errstr");
        }
        stream_set_timeout($sock, (int) $timeout, (int) (fmod($timeout, 1) * 1e6));
        $this->sock = $sock;
        $key = base64_encode(random_bytes(16));
        $head = "GET $path HTTP/1.1\r\nHost: $addr\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            . "Sec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\n";
        foreach ($headers as $name => $value) {
            $head .= "$name: $value\r\n";
        }
        fwrite($sock, "$head\r\n");
    }

    /** Reads the handshake response; returns the status code. */
    public function handshake(): int
    {
        $response = '';
        while (!str_contains($response, "\r\n\r\n")) {
            $chunk = fread($this->sock, 1);
            if ($chunk === '' || $chunk === false) {
                break;
            }
            $response .= $chunk;
        }
        $this->response = $response;
        $this->status = (int) (explode(' ', $response)[1] ?? 0);
        return $this->status;
    }

    public function header(string $name): ?string
    {
        foreach (explode("\r\n", $this->response) as $line) {
            [$n, $v] = array_pad(explode(':', $line, 2), 2, null);
            if ($v !== null && strcasecmp($n, $name) === 0) {
                return trim($v);
            }
        }
        return null;
    }

    public function send(string $data, int $opcode = self::TEXT): void
    {
        fwrite($this->sock, self::frame($data, $opcode));
    }

    /** Text messages in one write, so that the server reads them together. */
    public function sendAll(array $messages): void
    {
        fwrite($this->sock, implode('', array_map(fn ($m) => self::frame($m, self::TEXT), $messages)));
    }

    /** A masked, unfragmented frame. */
    private static function frame(string $data, int $opcode): string
    {
        $len = strlen($data);
        $head = chr(0x80 | $opcode);
        if ($len < 126) {
            $head .= chr(0x80 | $len);
        } elseif ($len < 65536) {
            $head .= chr(0x80 | 126) . pack('n', $len);
        } else {
            $head .= chr(0x80 | 127) . pack('J', $len);
        }
        $mask = random_bytes(4);
        $masked = $data ^ str_repeat($mask, intdiv($len, 4) + 1);
        return $head . $mask . substr($masked, 0, $len);
    }

    public function sendClose(int $code = 1000, string $reason = ''): void
    {
        $this->send(pack('n', $code) . $reason, self::CLOSE);
    }

    /** The next frame as [opcode, payload], or null on EOF/timeout. */
    public function recv(): ?array
    {
        $head = $this->read(2);
        if ($head === null) {
            return null;
        }
        $opcode = ord($head[0]) & 0x0f;
        $len = ord($head[1]) & 0x7f;
        if ($len === 126) {
            $len = unpack('n', $this->read(2) ?? "\0\0")[1];
        } elseif ($len === 127) {
            $len = unpack('J', $this->read(8) ?? str_repeat("\0", 8))[1];
        }
        $payload = $len > 0 ? $this->read($len) : '';
        return $payload === null ? null : [$opcode, $payload];
    }

    /** The next data frame's payload (answers pings). */
    public function recvData(): ?string
    {
        while (($frame = $this->recv()) !== null) {
            if ($frame[0] === self::PING) {
                $this->send($frame[1], self::PONG);
                continue;
            }
            return $frame[0] === self::CLOSE ? null : $frame[1];
        }
        return null;
    }

    /** Reads until the close frame: [code, reason], or null if none came. */
    public function recvClose(): ?array
    {
        while (($frame = $this->recv()) !== null) {
            if ($frame[0] === self::CLOSE) {
                $code = strlen($frame[1]) >= 2 ? unpack('n', $frame[1])[1] : 1005;
                return [$code, substr($frame[1], 2)];
            }
        }
        return null;
    }

    /** Everything until the server closes the connection (e.g. a refusal's body). */
    public function rest(): string
    {
        return (string) stream_get_contents($this->sock);
    }

    public function disconnect(): void
    {
        fclose($this->sock);
    }

    private function read(int $n): ?string
    {
        $buf = '';
        while (strlen($buf) < $n) {
            $chunk = fread($this->sock, $n - strlen($buf));
            if ($chunk === '' || $chunk === false) {
                return null;
            }
            $buf .= $chunk;
        }
        return $buf;
    }
}

/** A server on a free port of 127.0.0.1, with fast timeouts for tests. */
function test_server(array $options = []): Switchboard\Server
{
    return new Switchboard\Server($options + ['listen' => '127.0.0.1:0', 'threads' => 2, 'close_timeout' => 1]);
}

function addr(Switchboard\Server $s): string
{
    return $s->addresses()[0];
}

/** Polls until an event of $type arrives; other events stay queued for later calls. */
function poll_for(Switchboard\Server $s, string $type, float $timeout = 5.0): ?array
{
    static $queue = [];
    $k = spl_object_id($s);
    $deadline = microtime(true) + $timeout;
    while (true) {
        foreach ($queue[$k] ?? [] as $i => $e) {
            if ($e['type'] === $type) {
                unset($queue[$k][$i]);
                return $e;
            }
        }
        if (microtime(true) >= $deadline) {
            return null;
        }
        foreach ($s->poll(100) as $e) {
            $queue[$k][] = $e;
        }
    }
}
