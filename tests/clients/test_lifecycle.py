"""Connection lifecycle over raw sockets: timeouts, limits, plain HTTP, back-pressure, shutdown."""

import asyncio
import signal
import time

from websockets.exceptions import ConnectionClosed, InvalidStatus

from harness import (OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, Closed, RawWS, TestFailure, check, client,
                     close_payload, echo, http_get, open_tcp, recv, timeout, wait_dropped)


def elapsed(t0):
    return time.monotonic() - t0


async def connect_eventually(url, within=3.0):
    """A websockets client, retrying while the server still refuses (e.g. a slot not yet freed)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await client(url)
        except InvalidStatus as e:
            if time.monotonic() > deadline:
                raise TestFailure(f"still refused with HTTP {e.response.status_code} after {within}s")
            await asyncio.sleep(0.1)


# --- idle timeout / keepalive ------------------------------------------------------------------

IDLE_FLAGS = ("--ping-interval", "0.3", "--idle-timeout", "1")


async def silent_until_dropped(ws, limit=5.0):
    """Read without ever answering pings. Returns (seconds until the TCP connection ended,
    pings seen, close code or None)."""
    t0 = time.monotonic()
    code, how, frames = await ws.recv_until_close(timeout=limit)
    if how == "close":  # a close frame may come first, but the server must then drop us
        if await wait_dropped(ws.reader, limit - elapsed(t0)) is None:
            raise TestFailure(f"close {code} after {elapsed(t0):.2f}s, but the TCP connection "
                              f"stayed open")
    pings = sum(1 for op, _ in frames if op == OP_PING)
    return elapsed(t0), pings, code


async def test_idle_timeout_closes_silent_client(ctx):
    srv = await ctx.server(*IDLE_FLAGS)
    ws = await RawWS.connect(srv.host, srv.port)
    try:
        dt, pings, code = await silent_until_dropped(ws)
    except asyncio.TimeoutError:
        raise TestFailure("a client that never answers pings was not dropped within 5s")
    check(pings >= 1, f"dropped after {dt:.2f}s without being pinged first")
    check(0.8 <= dt <= 3.0, f"dropped after {dt:.2f}s; --idle-timeout 1 wants about 1s")


@timeout(30)
async def test_idle_timeout_spares_clients_answering_pings(ctx):
    srv = await ctx.server(*IDLE_FLAGS)

    async def raw_answering():
        ws = await RawWS.connect(srv.host, srv.port)
        pings, t0 = 0, time.monotonic()
        while elapsed(t0) < 3.0:
            try:
                fin, op, payload = await ws.recv_frame(timeout=max(0.01, 3.0 - elapsed(t0)))
            except asyncio.TimeoutError:
                break
            except Closed as e:
                raise TestFailure(f"raw client answering pings dropped after {elapsed(t0):.2f}s: {e}")
            check(op != OP_TEXT, "unexpected text frame")
            check(op != OP_CLOSE, f"raw client answering pings got a close frame: {payload!r}")
            if op == OP_PING:
                pings += 1
                await ws.send(OP_PONG, payload)
        check(pings >= 3, f"only {pings} pings in 3s with --ping-interval 0.3")
        await ws.send_text("still alive")
        while True:
            fin, op, payload = await ws.recv_frame()
            if op == OP_PING:
                await ws.send(OP_PONG, payload)
                continue
            check(op == OP_TEXT and payload == b"still alive", f"got {op} {payload!r}")
            break
        ws.abort()

    async def websockets_client():  # answers pings by itself, sends none of its own
        async with client(srv.url()) as ws:
            await asyncio.sleep(3.0)
            await echo(ws, "still alive too")

    await asyncio.gather(raw_answering(), websockets_client())


async def test_idle_close_frees_connection_slot(ctx):
    # the server-initiated close path: the dropped connection must be fully released
    srv = await ctx.server(*IDLE_FLAGS, "--max-connections", "1")
    ws = await RawWS.connect(srv.host, srv.port)
    try:
        await client(srv.url())
        raise TestFailure("a second connection was accepted with --max-connections 1")
    except InvalidStatus as e:
        check(e.response.status_code == 503, f"second connection got {e.response.status_code}")
    try:
        await silent_until_dropped(ws)
    except asyncio.TimeoutError:
        raise TestFailure("the silent client was not dropped within 5s")
    ok = await connect_eventually(srv.url(), within=2.0)
    await echo(ok, "slot reused")
    await ok.close()


# --- handshake timeout -------------------------------------------------------------------------

async def test_handshake_timeout_drops_slowloris(ctx):
    srv = await ctx.server("--handshake-timeout", "1", "--ping-interval", "10", "--idle-timeout", "30")

    async def half_head():
        reader, writer = await open_tcp(srv.host, srv.port)
        writer.write(f"GET / HTTP/1.1\r\nHost: {srv.host}\r\nUpgrade: websocket\r\n".encode())
        t0 = time.monotonic()
        how = await wait_dropped(reader, 5.0)
        writer.close()
        return "half a request head", how, elapsed(t0)

    async def nothing():
        reader, writer = await open_tcp(srv.host, srv.port)
        t0 = time.monotonic()
        how = await wait_dropped(reader, 5.0)
        writer.close()
        return "no bytes at all", how, elapsed(t0)

    async def trickle():  # one byte every 0.2 s: the limit is on the whole head, not per read
        reader, writer = await open_tcp(srv.host, srv.port)
        t0 = time.monotonic()
        head = f"GET / HTTP/1.1\r\nHost: {srv.host}\r\nX-Slow: " + "a" * 1000
        drop = asyncio.ensure_future(wait_dropped(reader, 5.0))
        try:
            for ch in head:
                if drop.done():
                    break
                writer.write(ch.encode())
                await asyncio.sleep(0.2)
        except (ConnectionResetError, BrokenPipeError):
            pass
        how = await drop
        writer.close()
        return "a head trickled byte by byte", how, elapsed(t0)

    # a completed handshake is not subject to the handshake timeout
    async def upgraded():
        async with client(srv.url()) as ws:
            await asyncio.sleep(1.8)
            await echo(ws, "handshake done in time")

    results = await asyncio.gather(half_head(), nothing(), trickle(), upgraded())
    for what, how, dt in results[:3]:
        check(how is not None, f"{what}: still connected after 5s with --handshake-timeout 1")
        check(0.8 <= dt <= 3.0, f"{what}: dropped after {dt:.2f}s with --handshake-timeout 1")
    ws = await client(srv.url())
    await echo(ws, "server still serving")
    await ws.close()


# --- connection limit, plain HTTP, static files ------------------------------------------------

async def test_max_connections_503(ctx):
    srv = await ctx.server("--max-connections", "2")
    a = await client(srv.url())
    b = await client(srv.url())
    await echo(a, "a")
    await echo(b, "b")
    try:
        await client(srv.url())
        raise TestFailure("a third connection was accepted with --max-connections 2")
    except InvalidStatus as e:
        check(e.response.status_code == 503, f"third connection got HTTP {e.response.status_code}, "
                                             "expected 503")
    await a.close()
    c = await connect_eventually(srv.url())
    await echo(c, "c took a's place")
    await echo(b, "b unaffected")
    await b.close()
    await c.close()


async def test_plain_get_426(ctx):
    srv = await ctx.server()
    for path in ["/", "/some/page.html"]:
        status, headers, body = await http_get(srv.host, srv.port, path)
        check(status == 426, f"GET {path} without upgrade: HTTP {status}, expected 426")
        check("websocket" in headers.get("upgrade", "").lower(),
              f"426 without 'Upgrade: websocket' header: {headers}")
    ws = await client(srv.url())
    await echo(ws, "upgrade still works")
    await ws.close()


async def get_or_dropped(srv, path):
    """(status, body); a connection dropped without an answer counts as (None, b'')."""
    try:
        status, _, body = await http_get(srv.host, srv.port, path)
        return status, body
    except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
        return None, b""


async def test_static_dir(ctx):
    base = ctx.tmpdir()
    www = base / "www"
    (www / "sub").mkdir(parents=True)
    index = b"<!doctype html><title>switchboard</title><p>static index 7f3a9c</p>\n"
    (www / "index.html").write_bytes(index)
    (www / "sub" / "page.txt").write_bytes(b"sub page\n")
    (base / "secret.txt").write_bytes(b"SECRET-outside-static-dir\n")
    srv = await ctx.server("--static-dir", www)

    for path, want in [("/", index), ("/index.html", index), ("/sub/page.txt", b"sub page\n")]:
        status, body = await get_or_dropped(srv, path)
        check(status == 200 and body == want, f"GET {path}: HTTP {status}, body {body[:80]!r}")
    status, body = await get_or_dropped(srv, "/missing.html")
    check(status == 404, f"GET /missing.html: HTTP {status}, expected 404")

    for path in ["/../../etc/passwd", "/%2e%2e/etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                 "/..%2f..%2fetc%2fpasswd", "/%2E%2E/%2E%2E/etc/passwd", "/../secret.txt",
                 "/%2e%2e/secret.txt", "/sub/../../secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt",
                 "/..%5csecret.txt", "//etc/passwd", "/etc/passwd"]:
        status, body = await get_or_dropped(srv, path)
        leaked = b"root:" in body or b"SECRET-outside" in body
        check(status != 200 and not leaked,
              f"GET {path}: HTTP {status}{' with the file outside the static dir' if leaked else ''}")

    ws = await client(srv.url())  # an upgrade on / is still a WebSocket
    await echo(ws, "upgrade beside static files")
    await ws.close()


async def test_multiple_listen_addresses(ctx):
    srv = await ctx.server(listen=2)
    check(len(srv.addrs) == 2, f"expected 2 addresses on the first line, got {srv.addrs}")
    for i in range(2):
        ws = await client(srv.url(index=i))
        await echo(ws, f"listener {i}")
        await ws.close()


# --- back-pressure -----------------------------------------------------------------------------

@timeout(60)
async def test_slow_reader_closed_fast_reader_served(ctx):
    n, size, window = 512, 16384, 2  # 8 MiB broadcast: more than any kernel buffering of a socket
    srv = await ctx.server("--max-buffered", "65536", "--max-message-size", 1 << 20)
    slow = await RawWS.connect(srv.host, srv.port, rcvbuf=4096)
    await slow.send_text("sync")
    check((await slow.recv_frame())[1:] == (OP_TEXT, b"sync"), "slow client: bad echo")
    fast = await client(srv.url(), max_queue=None)
    sender = await client(srv.url(), max_queue=None)
    await echo(fast, "sync")
    await echo(sender, "sync")

    def message(i):
        head = f"B:{i:06d}:".encode()
        return head + b"." * (size - len(head))

    got = {"fast": 0, "sender": 0}
    progress = asyncio.Event()

    async def reader(name, ws):
        while got[name] < n:
            msg = await recv(ws)
            check(msg == message(got[name]).decode(),
                  f"{name} got {msg[:20]!r}... ({len(msg)} bytes) as message {got[name]}")
            got[name] += 1
            progress.set()

    readers = asyncio.gather(reader("fast", fast), reader("sender", sender))
    try:
        for i in range(n):
            # pace on the fast reader, which never has more than `window` messages pending
            while got["fast"] < i - window:
                progress.clear()
                try:
                    await asyncio.wait_for(progress.wait(), 5.0)
                except asyncio.TimeoutError:
                    raise TestFailure(f"the fast reader stalled at {got['fast']} of {i} messages")
                if readers.done():
                    readers.result()
            await sender.send(message(i).decode())
        await asyncio.wait_for(readers, 20.0)
    finally:
        readers.cancel()
        try:
            await readers
        except (asyncio.CancelledError, Exception):
            pass  # already reported
    await echo(fast, "fast reader still connected")

    # the slow client starts reading: what was buffered for it, then the end of the connection
    # (a server may hold the socket for a while, e.g. a close timeout, before dropping it)
    received, end = 0, None
    while end is None:
        try:
            fin, op, payload = await slow.recv_frame(timeout=10.0)
        except Closed as e:
            end = str(e)
        except asyncio.TimeoutError:
            end = "nothing more within 10s, connection still open"
        else:
            if op == OP_CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                check(code == 1008, f"slow reader got close {code}, expected 1008 or a dropped TCP")
                end = "close 1008"
            elif op == OP_TEXT:
                received += 1
    check(received < n, f"the slow reader got all {n} messages ({end}): it was never cut off")
    check("still open" not in end, f"the slow reader got {received} of {n} messages, then {end}")
    slow.abort()
    await sender.close()
    await fast.close()


# --- graceful shutdown -------------------------------------------------------------------------

async def shutdown_during_traffic(ctx, sig):
    srv = await ctx.server()
    counts = [0] * 5  # echoes per chatty client

    async def chatty(i):
        ws = await client(srv.url())
        n = 0
        try:
            while True:
                msg = f"client {i} message {n}"
                await ws.send(msg)
                got = await recv(ws)
                check(got == msg, f"client {i}: got {got!r} for {msg!r}")
                n += 1
                counts[i] = n
        except ConnectionClosed as e:
            return i, e.rcvd.code if e.rcvd else None

    async def quiet():
        ws = await RawWS.connect(srv.host, srv.port)
        code, how, frames = await ws.recv_until_close(timeout=10.0, answer_pings=True)
        if how == "close":  # answer the close
            try:
                await ws.send(OP_CLOSE, close_payload(code or 1000))
            except (ConnectionResetError, BrokenPipeError):
                pass
        ws.abort()
        return "raw idle client", code if how == "close" else how

    tasks = [asyncio.ensure_future(chatty(i)) for i in range(5)] + [asyncio.ensure_future(quiet())]
    deadline = time.monotonic() + 5.0
    while min(counts) < 10:
        check(time.monotonic() < deadline, f"clients not chatting: {counts}")
        await asyncio.sleep(0.05)
    srv.signal(sig)
    results = await asyncio.wait_for(asyncio.gather(*tasks), 10.0)
    for who, code in results:
        check(code == 1001, f"{sig.name}: client {who} ended with {code!r}, expected close 1001")
    rc = await srv.wait_exit(10.0)
    check(rc == 0, f"{sig.name}: server exit status {rc}, expected 0")


async def test_sigterm_closes_all_clients_1001(ctx):
    await shutdown_during_traffic(ctx, signal.SIGTERM)


async def test_sigint_closes_all_clients_1001(ctx):
    await shutdown_during_traffic(ctx, signal.SIGINT)
