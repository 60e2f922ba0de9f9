"""Real WebSocket clients (the third-party `websockets` library) for the C tests.

    python clients.py SCENARIO ws://127.0.0.1:PORT

Each scenario is the client half of one tests/c/test_*.c program: it connects, sends,
and checks what the C server sent back. Exit status 0 when every expectation held;
otherwise the failure is printed and the status is 1. Operations time out after
SB_TEST_IO_TIMEOUT seconds (default 10).
"""

import asyncio
import os
import sys
import traceback

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

TIMEOUT = float(os.environ.get("SB_TEST_IO_TIMEOUT", "10"))
SCENARIOS = {}


class CheckFailed(AssertionError):
    pass


def check(condition, message):
    """Fails the scenario unless condition holds (unlike `assert`, kept under `python -O`)."""
    if not condition:
        raise CheckFailed(message)


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def dial(url, path="/", **kwargs):
    kwargs.setdefault("max_size", None)
    kwargs.setdefault("open_timeout", TIMEOUT)
    kwargs.setdefault("close_timeout", TIMEOUT)
    return connect(url + path, **kwargs)


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), TIMEOUT)


async def expect(ws, want):
    got = await recv(ws)
    check(got == want, f"expected {want!r:.80}, got {got!r:.80}")


async def closed(ws):
    """Waits for the server to close; returns (code, reason) of its close frame."""
    try:
        while True:
            got = await recv(ws)
            raise CheckFailed(f"expected a close, got {got!r:.80}")
    except ConnectionClosed as e:
        frame = e.rcvd
        return (frame.code, frame.reason) if frame else (None, None)


async def ping_pong(ws):
    """The next message must be the answer to our ping: nothing unexpected came first."""
    await ws.send("ping")
    await expect(ws, "pong")


@scenario
async def echo(url):
    async with dial(url, "/echo/path?a=1&b=two", additional_headers={"X-Test": "yes"}) as ws:
        payloads = ["hello", "héllo ✓", "", b"\x00\x01\xff", "x" * 125, "y" * 126,
                    b"z" * 65535, b"w" * 65536, b"v" * 300000]
        for p in payloads:
            await ws.send(p)
            await expect(ws, p)
        for i in range(100):
            await ws.send(f"m{i}")
        for i in range(100):
            await expect(ws, f"m{i}")


@scenario
async def broadcast(url):
    async with dial(url, "/a") as a, dial(url, "/b") as b, dial(url, "/c") as c:
        await a.send("go")
        for ws in (a, b, c):
            await expect(ws, "to-all")
        await expect(a, "after")  # the binary broadcast skipped its sender
        for ws in (b, c):
            await expect(ws, b"\x01\x02")


@scenario
async def topics(url):
    async with dial(url, "/red") as r1, dial(url, "/red") as r2, dial(url, "/blue") as b1:
        for ws in (r1, r2, b1):
            await expect(ws, "joined")
        await r1.send("say:hello red")
        await expect(r2, "hello red")
        await ping_pong(b1)  # other room: nothing
        await ping_pong(r1)  # the sender was excepted
        await r2.send("leave")
        await expect(r2, "left")
        await r1.send("say:second")
        await ping_pong(r2)  # unsubscribed: nothing
        await r1.send("all:everyone")
        await expect(r1, "everyone")  # no exception this time: the sender too
        await ping_pong(b1)


@scenario
async def users(url):
    async with dial(url, "/?user=alice") as a1, dial(url, "/?user=alice") as a2, \
            dial(url, "/?user=bob") as bob, dial(url, "/") as anon:
        for ws in (a1, a2, bob, anon):
            await expect(ws, "welcome")
        await bob.send("to:alice:hello")
        await expect(bob, "sent:2")
        await expect(a1, "hello")
        await expect(a2, "hello")
        await bob.send("count:alice")
        await expect(bob, "count:2")
        await anon.send("bind:carol")
        await expect(anon, "bound")
        await bob.send("to:carol:hi")
        await expect(bob, "sent:1")
        await expect(anon, "hi")
        await a2.send("unbind")
        await expect(a2, "unbound")
        await bob.send("to:alice:again")
        await expect(bob, "sent:1")
        await expect(a1, "again")
        await ping_pong(a2)
        await bob.send("to:nobody:x")
        await expect(bob, "sent:0")
        await anon.send("bind:dave")  # replaces carol
        await expect(anon, "bound")
        await bob.send("to:carol:x")
        await expect(bob, "sent:0")
        await bob.send("to:dave:y")
        await expect(bob, "sent:1")
        await expect(anon, "y")


async def refused(url, path, status, body, **kwargs):
    try:
        async with dial(url, path, **kwargs):
            raise CheckFailed(f"{path}: expected HTTP {status}, the handshake succeeded")
    except InvalidStatus as e:
        got = e.response.status_code
        check(got == status, f"{path}: expected HTTP {status}, got {got}")
        if body is not None:
            got = bytes(e.response.body)  # exactly as the application gave it
            check(got == body, f"{path}: body {e.response.body!r}")


@scenario
async def auth(url):
    async with dial(url, "/room?token=good", subprotocols=["superchat", "chat"],
                    additional_headers={"Authorization": "Bearer good"}) as ws:
        check(ws.subprotocol == "superchat", f"subprotocol {ws.subprotocol!r}")
        headers = ws.response.headers
        check(headers.get("Set-Cookie") == "session=abc", f"headers {dict(headers)}")
        check(headers.get("X-Served-By") == "switchboard", f"headers {dict(headers)}")
        await ws.send("hi")
        await expect(ws, "hi")
    await refused(url, "/room?token=bad", 403, b"forbidden")
    async with dial(url, "/plain?token=plain") as ws:
        check(ws.subprotocol is None, f"subprotocol {ws.subprotocol!r}, expected none")
        await ws.send("plain")
        await expect(ws, "plain")
    await refused(url, "/room?token=silent", 503, None)  # no decision: handshake timeout


@scenario
async def close(url):
    async with dial(url, "/server-close") as ws:
        await ws.send("close-me")
        got = await closed(ws)
        check(got == (4001, "bye"), f"close {got}, expected (4001, 'bye')")
    async with dial(url, "/server-close-plain") as ws:
        await ws.send("close-me")
        got = await closed(ws)
        check(got == (1000, ""), f"close {got}, expected (1000, '')")
    async with dial(url, "/client-close") as ws:
        await ws.send("ready")
        await expect(ws, "ok")
        await ws.close(code=3000, reason="done")
    ws = await dial(url, "/abort")
    await ws.send("ready")
    await expect(ws, "ok")
    ws.transport.abort()
    async with dial(url, "/last") as ws:
        await ws.send("ready")
        await expect(ws, "ok")


@scenario
async def shutdown(url):
    socks = [await dial(url, f"/s{i}") for i in range(3)]
    for ws in socks:
        await ws.send("ready")
    for ws in socks:
        code, _ = await closed(ws)
        check(code == 1001, f"expected 1001 at shutdown, got {code}")
    host, port = url[len("ws://"):].split(":")
    for _ in range(int(TIMEOUT * 20)):  # the listener goes away with the server
        try:
            _, w = await asyncio.open_connection(host, int(port))
            w.close()
            await asyncio.sleep(0.05)
        except OSError:
            return
    raise CheckFailed("the server still accepts connections after shutdown")


@scenario
async def misuse(url):
    async with dial(url, "/big") as ws:
        await ws.send(b"x" * 2048)  # over max_message_size (1024)
        code, _ = await closed(ws)
        check(code == 1009, f"expected 1009 for an oversize message, got {code}")
    async with dial(url, "/after") as ws:
        await ws.send("still works")
        await expect(ws, "still works")
        await ws.send(b"y" * 1024)  # exactly the limit
        await expect(ws, b"y" * 1024)


@scenario
async def poll(url):
    async with dial(url, "/poll") as ws:
        print("broadcast hello-from-pipe", flush=True)
        await expect(ws, "hello-from-pipe")
        await ws.send("echo-me")
        await expect(ws, "echo-me")
    print("done", flush=True)


@scenario
async def threads(url):
    senders, per_sender = 4, 250
    async with dial(url, "/threads") as ws:
        await ws.send("go")
        seen = [0] * senders
        while True:
            msg = await recv(ws)
            if msg == "end":
                break
            k, i = (int(x) for x in msg[1:].split(":"))
            check(i == seen[k], f"sender {k}: message {i} arrived when {seen[k]} was due")
            seen[k] += 1
        check(seen == [per_sender] * senders, f"messages per sender {seen}")


@scenario
async def inline(url):
    async with dial(url, "/a") as a, dial(url, "/b") as b:
        for i in range(50):
            await a.send(f"m{i}")
            await expect(a, f"m{i}")
        for payload in [b"\x00\xff", "y" * 300000]:
            await b.send(payload)
            await expect(b, payload)
        await a.send("B:to both")
        await expect(a, "B:to both")
        await expect(b, "B:to both")


@scenario
async def per_loop(url):
    """Seven clients over three loops (three of them the user "ann")."""
    sockets = [await dial(url, "/user") for _ in range(3)]
    sockets += [await dial(url, "/") for _ in range(4)]
    loops = []
    for ws in sockets:
        await ws.send("loop")
        loops.append(int(await recv(ws)))
    check(sorted(set(loops)) == [0, 1, 2], f"loops of the clients {loops}")
    check(sorted(loops[:3]) == [0, 1, 2], f"ann's loops {loops[:3]}")

    async def pipelined(ws, tag):
        for i in range(200):
            await ws.send(f"seq:{tag}:{i}")
        for i in range(200):
            await expect(ws, f"seq:{tag}:{i}")

    await asyncio.gather(*(pipelined(ws, k) for k, ws in enumerate(sockets)))
    for sender in sockets[3:6]:
        await sender.send("pub:p")
        for ws in sockets:
            await expect(ws, "p")
        await sender.send("bcast:b")
        for ws in sockets:
            await expect(ws, "b")
        await sender.send("user:u")
        await expect(sender, "n=3")
        for ws in sockets[:3]:
            await expect(ws, "u")
    for ws in sockets:  # nothing came twice
        await ws.send("echo:marker")
        await expect(ws, "marker")
    await sockets[loops.index(2)].send("shutdown")
    for ws in sockets:
        code, _ = await closed(ws)
        check(code == 1001, f"close code {code}")


@scenario
async def control_client(url):
    """The C server's other half (test_client.c) drives this client through the control
    socket only: each message must come exactly once, in order, then a close."""
    async with dial(url, "/") as ws:
        await expect(ws, "published")
        await expect(ws, "to ann")
        await expect(ws, "direct")
        await expect(ws, b"\x00\xff")
        code, reason = await closed(ws)
        check((code, reason) == (4000, "bye"), f"close {code} {reason!r}")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SCENARIOS:
        sys.exit(f"usage: clients.py {{{','.join(SCENARIOS)}}} ws://HOST:PORT")
    try:
        asyncio.run(asyncio.wait_for(SCENARIOS[sys.argv[1]](sys.argv[2]), TIMEOUT * 6))
    except Exception as e:  # noqa: BLE001 - any failure is the scenario's failure
        traceback.print_exc()
        print(f"client {sys.argv[1]}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
