"""echo.php with the Python `websockets` client."""

import asyncio
import os

from websockets.asyncio.client import connect

from harness import check, echo_server


async def test_text_and_binary_round_trip():
    async with echo_server() as server, connect(server.url(), max_size=None) as ws:
        for message in ["hello", "héllo wörld 𝄞", "", "a\0b",
                        b"a\0b\xff\xfe\x80z", b"", os.urandom(1 << 20)]:
            await ws.send(message)
            back = await ws.recv()
            check(back == message and type(back) is type(message),
                  f"sent {message[:20]!r} ({len(message)}), got {back[:20]!r} ({len(back)})")


async def test_b_prefix_reaches_every_client():
    for args in [(), ("--publish",)]:
        async with echo_server(*args) as server:
            clients = [await connect(server.url()) for _ in range(3)]
            for ws in clients:  # an echo comes after the open (and the subscribe)
                await ws.send("ready")
                check(await asyncio.wait_for(ws.recv(), 5) == "ready", f"{args}: ready")
            await clients[0].send("B:to everyone")
            for ws in clients:
                got = await asyncio.wait_for(ws.recv(), 5)
                check(got == "B:to everyone", f"{args}: got {got!r}")
            await clients[1].send("just me")
            check(await clients[1].recv() == "just me", "plain echo after B:")
            for ws in clients:
                await ws.close()


async def test_many_clients_in_parallel():
    async with echo_server() as server:
        async def client(n):
            async with connect(server.url()) as ws:
                for i in range(50):
                    await ws.send(f"{n}:{i}")
                for i in range(50):
                    got = await ws.recv()
                    check(got == f"{n}:{i}", f"client {n}: expected {n}:{i}, got {got!r}")
        await asyncio.gather(*(client(n) for n in range(50)))
