"""Python `websockets` (PyPI) as the client."""

import asyncio

from websockets.exceptions import InvalidStatus

from harness import (IO_TIMEOUT, OP_TEXT, RawWS, TestFailure, check, client, echo, expect_close,
                     recv, timeout)

MAX = 65536


async def test_text_echo(ctx):
    srv = await ctx.server()
    async with client(srv.url()) as ws:
        for msg in ["hello", "", "héllo wörld ✓ 🚀 日本語", "x" * 125, "y" * 126, "z" * 70000]:
            await echo(ws, msg)


async def test_binary_echo(ctx):
    srv = await ctx.server()
    async with client(srv.url()) as ws:
        for msg in [b"", b"\x00", bytes(range(256)), b"\x00\x80\xff" * 1000,
                    bytes(range(0x80, 0x100)) * 300]:
            await echo(ws, msg)


async def test_fragmented_message_echo(ctx):
    srv = await ctx.server()
    async with client(srv.url()) as ws:
        # "é" split across two text fragments: UTF-8 must be checked over the whole message
        await ws.send([b"caf\xc3", b"\xa9 au lait", b""], text=True)
        check(await recv(ws) == "café au lait", "fragmented text not reassembled")
        await ws.send([b"\x00\x01", b"", b"\xff" * 300])
        check(await recv(ws) == b"\x00\x01" + b"\xff" * 300, "fragmented binary not reassembled")


async def test_max_message_size(ctx):
    srv = await ctx.server("--max-message-size", MAX)
    async with client(srv.url()) as ws:
        await echo(ws, b"\x80" * MAX)
        await echo(ws, "t" * MAX)
        await ws.send(b"\x00" * (MAX + 1))
        await expect_close(ws, 1009)


async def test_max_message_size_text_over(ctx):
    srv = await ctx.server("--max-message-size", MAX)
    async with client(srv.url()) as ws:
        await ws.send("t" * (MAX + 1))
        await expect_close(ws, 1009)


async def test_max_message_size_counts_fragments(ctx):
    # each fragment is small; the message as a whole is one byte over
    srv = await ctx.server("--max-message-size", MAX)
    async with client(srv.url()) as ws:
        await echo(ws, b"ok")
        await ws.send([b"a" * 16384] * 4 + [b"b"])
        await expect_close(ws, 1009)


async def test_subprotocol_negotiation(ctx):
    srv = await ctx.server("--subprotocol", "chat")
    async with client(srv.url(), subprotocols=["superchat", "chat"]) as ws:
        check(ws.subprotocol == "chat", f"negotiated {ws.subprotocol!r}, expected 'chat'")
        await echo(ws, "with subprotocol")
    async with client(srv.url()) as ws:
        check(ws.subprotocol is None, f"negotiated {ws.subprotocol!r} though none was offered")
        await echo(ws, "without subprotocol")


async def test_ping_pong(ctx):
    srv = await ctx.server()
    async with client(srv.url()) as ws:
        for payload in [b"", b"ping-1", bytes(range(125))]:
            pong = await ws.ping(payload)
            await asyncio.wait_for(pong, IO_TIMEOUT)
        await echo(ws, "after pings")


async def test_client_close_code_echoed(ctx):
    srv = await ctx.server()
    ws = await client(srv.url())
    await echo(ws, "before close")
    await ws.close(4000, "client says bye")
    check(ws.close_code == 4000, f"server answered close 4000 with {ws.close_code}")
    # a normal close as well
    async with client(srv.url()) as ws:
        await echo(ws, "x")
    check(ws.close_code == 1000, f"server answered close 1000 with {ws.close_code}")


async def test_invalid_utf8_text_closes_1007(ctx):
    srv = await ctx.server()
    for payload in [b"\xff\xfe", b"abc\xc3\x28", b"\xed\xa0\x80", b"\xc3"]:
        ws = await RawWS.connect(srv.host, srv.port)
        await ws.send(OP_TEXT, payload)
        code, how, frames = await ws.recv_until_close()
        ws.abort()
        check(code == 1007, f"text {payload!r}: expected close 1007, got {how} {code} "
                            f"after {len(frames)} frames")


async def test_broadcast_reaches_three_clients(ctx):
    srv = await ctx.server()
    clients = [await client(srv.url()) for _ in range(3)]
    try:
        for i, ws in enumerate(clients):  # each connection is established on the server side
            await echo(ws, f"hello {i}")
        await clients[0].send("B:news for everyone")
        await clients[0].send("after the broadcast")
        for i, ws in enumerate(clients):
            got = await recv(ws)
            check(got == "B:news for everyone", f"client {i} got {got!r} instead of the broadcast")
        got = await recv(clients[0])
        check(got == "after the broadcast",
              f"sender got {got!r} after the broadcast (a second copy, or no echo?)")
        # a broadcast from another client, and nothing more pending anywhere
        await clients[2].send("B:second")
        for i, ws in enumerate(clients):
            check(await recv(ws) == "B:second", f"client {i} missed the second broadcast")
        for i, ws in enumerate(clients):
            await echo(ws, f"bye {i}")
    finally:
        for ws in clients:
            await ws.close()


async def refused_origins(srv, origins):
    for origin in origins:
        try:
            async with client(srv.url(), origin=origin):
                pass
        except InvalidStatus as e:
            code = e.response.status_code
            check(code == 403, f"origin {origin}: refused with {code}, expected 403")
        else:
            raise TestFailure(f"origin {origin} was accepted")


async def test_origin_allow_list(ctx):
    srv = await ctx.server("--allow-origin", "*.example.com")
    async with client(srv.url(), origin="https://a.example.com") as ws:
        await echo(ws, "allowed")
    await refused_origins(
        srv, ["https://evil.com", "https://a.example.com.evil.com", "https://evilexample.com"])


async def test_origin_default_is_same_origin(ctx):
    srv = await ctx.server()
    host, port = srv.addrs[0]
    async with client(srv.url(), origin=f"http://{host}:{port}") as ws:
        await echo(ws, "same origin")
    async with client(srv.url()) as ws:
        await echo(ws, "no origin: not a browser")
    await refused_origins(
        srv, ["https://evil.com", f"http://{host}:{port + 1}", f"http://localhost:{port}"])
    any_site = await ctx.server("--allow-origin", "*")
    async with client(any_site.url(), origin="https://evil.com") as ws:
        await echo(ws, "any origin, as configured")


@timeout(60)
async def test_100_clients_100_messages(ctx):
    srv = await ctx.server()

    async def one(i):
        async with client(srv.url(), open_timeout=20) as ws:
            for j in range(100):
                msg = f"client {i} message {j} " + "." * (j % 17)
                await ws.send(msg)
                got = await recv(ws)
                check(got == msg, f"client {i}: sent {msg!r}, got {got!r}")

    results = await asyncio.gather(*(one(i) for i in range(100)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    check(not errors, f"{len(errors)} of 100 clients failed, first: {errors[:1]!r}")
