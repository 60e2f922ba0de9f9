"""Server process control, a minimal raw WebSocket client and raw HTTP helpers.

The server under test is, by default, the release build of the echo example
(`${CARGO_TARGET_DIR:-target}/release/examples/echo`, relative to the repository root).
`SERVER_CMD` overrides it with a shell-style command line, run from the repository root:

  - without `{port}`: the command gets `--listen 127.0.0.1:0` plus the test's flags appended and
    must print `listening on ADDR [ADDR...]` as its first line of stdout (the echo example's
    contract);
  - with `{port}`: a free port is substituted, the test's flags are appended (a server may ignore
    them), and the harness waits until the port accepts connections. This is how a reference
    server that knows nothing of the contract is driven, e.g.
    SERVER_CMD='.venv/bin/python ../shared/autobahn/echo_websockets.py {port}'.
"""

import asyncio
import base64
import hashlib
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import tempfile
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STARTUP_TIMEOUT = 15.0
IO_TIMEOUT = 5.0

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


LIVE_GROUPS = set()  # process groups of the servers still running, for kill_all_servers()


def kill_all_servers():
    """Synchronous last resort (the runner's signal handler): SIGKILL every server group."""
    for pgid in list(LIVE_GROUPS):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    LIVE_GROUPS.clear()


class TestFailure(AssertionError):
    pass


def server_argv():
    cmd = os.environ.get("SERVER_CMD")
    if cmd:
        return shlex.split(cmd)
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    return [str(ROOT / target / "release" / "examples" / "echo")]


def server_available():
    """None if the server can be started, else a reason."""
    if os.environ.get("SERVER_CMD"):
        return None
    exe = server_argv()[0]
    if not os.access(exe, os.X_OK):
        return (f"{os.path.relpath(exe, ROOT)} not found: run "
                "`cargo build --release -p switchboard --example echo` or set SERVER_CMD")
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_addr(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


class Server:
    """One server process. Use through Context.server()."""

    def __init__(self, flags, listen=1):
        self.flags = [str(f) for f in flags]
        self.listen = listen
        self.proc = None
        self.addrs = []
        self.expected_exit = False
        self._stderr = tempfile.TemporaryFile()
        self._drain = None

    async def start(self):
        argv = server_argv()
        template = any("{port}" in a for a in argv)
        if template:
            port = free_port()
            argv = [a.replace("{port}", str(port)) for a in argv] + self.flags
        else:
            argv = argv + ["--listen", "127.0.0.1:0"] * self.listen + self.flags
        self.argv = argv
        self.proc = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._stderr, start_new_session=True)
        LIVE_GROUPS.add(self.proc.pid)
        if template:
            self.addrs = [("127.0.0.1", port)]
            await self._wait_port()
        else:
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), STARTUP_TIMEOUT)
            except asyncio.TimeoutError:
                raise TestFailure(f"server printed no first line within {STARTUP_TIMEOUT}s")
            m = re.fullmatch(r"listening on (\S+(?: \S+)*)", line.decode(errors="replace").strip())
            if not m:
                raise TestFailure(f"unexpected first line {line!r}")
            self.addrs = [parse_addr(a) for a in m.group(1).split(" ")]
        self._drain = asyncio.ensure_future(self._drain_stdout())
        return self

    async def _wait_port(self):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT
        while True:
            if self.proc.returncode is not None:
                raise TestFailure("server exited during start-up")
            try:
                _, w = await asyncio.open_connection(*self.addrs[0])
                w.close()
                return
            except OSError:
                if loop.time() > deadline:
                    raise TestFailure(f"server port not open within {STARTUP_TIMEOUT}s")
                await asyncio.sleep(0.05)

    async def _drain_stdout(self):  # so that a chatty server never blocks on a full pipe
        while await self.proc.stdout.read(65536):
            pass

    @property
    def host(self):
        return self.addrs[0][0]

    @property
    def port(self):
        return self.addrs[0][1]

    def url(self, path="/", index=0):
        host, port = self.addrs[index]
        if ":" in host:
            host = f"[{host}]"
        return f"ws://{host}:{port}{path}"

    def signal(self, sig):
        self.expected_exit = True
        self.proc.send_signal(sig)

    async def wait_exit(self, timeout):
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise TestFailure(f"server still running {timeout}s after the signal")

    def diagnostics(self, lines=20):
        self._stderr.seek(0)
        err = self._stderr.read().decode(errors="replace").splitlines()[-lines:]
        rc = self.proc.returncode if self.proc else None
        out = [f"\n    server: {' '.join(shlex.quote(a) for a in getattr(self, 'argv', []))}"]
        if rc is not None:
            out.append(f"    server exit status: {rc}")
        if err:
            out.append("    server stderr (tail):")
            out += ["      " + l for l in err]
        return "\n".join(out)

    async def stop(self):
        """Kill the server (and anything it started). Returns a crash description or None."""
        if self.proc is None:
            return None
        crashed = None
        if self.proc.returncode is not None and not self.expected_exit:
            crashed = f"server exited on its own with status {self.proc.returncode}"
        try:  # the whole group: also whatever a SERVER_CMD wrapper may have started
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        LIVE_GROUPS.discard(self.proc.pid)
        await self.proc.wait()
        if self._drain:
            self._drain.cancel()
        return crashed


class Context:
    """Per-test resources: servers to stop and temp dirs to remove."""

    def __init__(self):
        self.servers = []
        self.tmpdirs = []

    async def server(self, *flags, listen=1):
        srv = Server(flags, listen)
        self.servers.append(srv)
        return await srv.start()

    def tmpdir(self):
        d = tempfile.TemporaryDirectory(prefix="switchboard-test-")
        self.tmpdirs.append(d)
        return Path(d.name)

    def diagnostics(self):
        return "".join(s.diagnostics() for s in self.servers)

    async def cleanup(self):
        problems = []
        for s in self.servers:
            crash = await s.stop()
            if crash:
                problems.append(crash + s.diagnostics())
        for d in self.tmpdirs:
            d.cleanup()
        return problems


# --- Python websockets client helpers -------------------------------------------------------

def client(url, **kw):
    kw.setdefault("open_timeout", IO_TIMEOUT)
    kw.setdefault("close_timeout", IO_TIMEOUT)
    kw.setdefault("ping_interval", None)
    return connect(url, **kw)


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), IO_TIMEOUT)


async def echo(ws, msg):
    await ws.send(msg)
    got = await recv(ws)
    check(type(got) is type(msg), f"sent {type(msg).__name__}, got {type(got).__name__} back")
    check(got == msg, f"echo differs: sent {len(msg)} {type(msg).__name__}, got {len(got)}: "
                      f"{got[:60]!r}")


async def expect_close(ws, code):
    """Wait for the server's close frame; check its code."""
    n = 0
    try:
        while True:
            await asyncio.wait_for(ws.recv(), IO_TIMEOUT)
            n += 1
    except asyncio.TimeoutError:
        raise TestFailure(f"expected close {code}, got {n} messages and no close within "
                          f"{IO_TIMEOUT}s")
    except ConnectionClosed as e:
        got = e.rcvd.code if e.rcvd else None
        check(got == code, f"expected close {code}, got {got} ({e})")


# --- raw WebSocket framing ---------------------------------------------------------------------

def mask_bytes(key, payload):
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode_frame(opcode, payload=b"", fin=True):
    """A masked client frame."""
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", b0, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + mask_bytes(key, bytes(payload))


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class Closed(Exception):
    """The TCP connection ended (EOF or reset) while reading a frame."""


class RawWS:
    """A hand-made WebSocket client over asyncio streams: it sends exactly the bytes it is told."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host, port, path="/", rcvbuf=None):
        reader, writer = await open_tcp(host, port, rcvbuf=rcvbuf)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        writer.write(req.encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
        status, hdrs = parse_head(head)
        if status != 101:
            writer.close()
            raise TestFailure(f"handshake answered with status {status}: {head!r}")
        expect = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        if hdrs.get("sec-websocket-accept") != expect:
            raise TestFailure(f"bad Sec-WebSocket-Accept in {head!r}")
        return cls(reader, writer)

    async def send(self, opcode, payload=b"", fin=True):
        self.writer.write(encode_frame(opcode, payload, fin=fin))
        await self.writer.drain()

    async def send_text(self, text):
        await self.send(OP_TEXT, text.encode())

    async def recv_frame(self, timeout=IO_TIMEOUT):
        """(fin, opcode, payload); raises Closed on EOF/reset, asyncio.TimeoutError on timeout."""
        return await asyncio.wait_for(self._recv_frame(), timeout)

    async def _read(self, n):
        try:
            return await self.reader.readexactly(n)
        except asyncio.IncompleteReadError as e:
            raise Closed("EOF" if not e.partial else f"EOF after {len(e.partial)} of {n} bytes")
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed(f"reset ({e.__class__.__name__})")

    async def _recv_frame(self):
        b0, b1 = await self._read(2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self._read(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self._read(8))
        if b1 & 0x80:
            raise TestFailure("server sent a masked frame")
        payload = await self._read(n) if n else b""
        return bool(b0 & 0x80), b0 & 0x0F, payload

    async def recv_until_close(self, timeout=IO_TIMEOUT, answer_pings=False):
        """Read frames until a close frame or the end of the connection.

        Returns (close_code or None, how, frames) where how is "close" or a Closed description and
        frames lists the (opcode, payload) of the data and control frames seen before."""
        frames = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                fin, op, payload = await self.recv_frame(max(0.01, deadline - loop.time()))
            except Closed as e:
                return None, str(e), frames
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return code, "close", frames
            if op == OP_PING and answer_pings:
                await self.send(OP_PONG, payload)
            frames.append((op, payload))

    def abort(self):
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()


# --- raw TCP / HTTP ----------------------------------------------------------------------------

async def open_tcp(host, port, rcvbuf=None):
    if rcvbuf is None:
        return await asyncio.wait_for(asyncio.open_connection(host, port), IO_TIMEOUT)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: small window
    sock.setblocking(False)
    await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), IO_TIMEOUT)
    # a small stream buffer too, so that the client really stops reading
    return await asyncio.open_connection(sock=sock, limit=4096)


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise TestFailure(f"not an HTTP response: {head[:200]!r}")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return int(parts[1]), headers


async def http_get(host, port, path, timeout=IO_TIMEOUT):
    """A raw GET (the path is sent as is); returns (status, headers, body). The body is read by
    Content-Length, or until EOF when there is none."""
    reader, writer = await open_tcp(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
                     .encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status, headers = parse_head(head)
        if "content-length" in headers:
            n = int(headers["content-length"])
            body = await asyncio.wait_for(reader.readexactly(n), timeout) if n else b""
        else:
            body = await asyncio.wait_for(reader.read(), timeout)
        return status, headers, body
    finally:
        writer.close()


async def wait_dropped(reader, timeout):
    """Read (and discard) until the peer ends the connection. Returns 'EOF'/'reset', or None on
    timeout."""
    try:
        async def until_eof():
            while await reader.read(65536):
                pass
        await asyncio.wait_for(until_eof(), timeout)
        return "EOF"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except asyncio.TimeoutError:
        return None


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def timeout(seconds):
    """Decorator: per-test time limit (default: run.py's DEFAULT_TIMEOUT)."""
    def deco(fn):
        fn.timeout = seconds
        return fn
    return deco
