"""SIGTERM/SIGINT while clients are busy: every client gets 1001, the process exits 0."""

import asyncio
import signal

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness import check, chat_server, echo_server


async def traffic_then(server, sig, clients=20):
    sockets = [await connect(server.url()) for _ in range(clients)]
    counts = [0] * clients

    async def pump(i, ws):
        try:
            while True:
                await ws.send(f"message {counts[i]}")
                await ws.recv()
                counts[i] += 1
        except ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None

    tasks = [asyncio.ensure_future(pump(i, ws)) for i, ws in enumerate(sockets)]
    deadline = asyncio.get_running_loop().time() + 10
    while not all(c > 0 for c in counts):  # every client has had an echo
        check(asyncio.get_running_loop().time() < deadline, f"no traffic before the signal: {counts}")
        await asyncio.sleep(0.01)
    server.signal(sig)
    codes = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    check(codes == [1001] * clients, f"close codes: {codes}")
    status = await server.exit_code()
    check(status == 0, f"exit status {status}" + server.stderr())
    check(server.stderr() == "", "unexpected stderr" + server.stderr())


async def test_sigterm_during_echo_traffic():
    async with echo_server() as server:
        await traffic_then(server, signal.SIGTERM)


async def test_sigint_during_echo_traffic():
    async with echo_server() as server:
        await traffic_then(server, signal.SIGINT)


async def test_sigterm_chat():
    async with chat_server() as server:
        a = await connect(server.url())
        await a.send('{"type":"join","nick":"ann","room":"r"}')
        await a.recv()
        server.signal(signal.SIGTERM)
        try:
            while True:
                await asyncio.wait_for(a.recv(), 10)
        except ConnectionClosed as e:
            check(e.rcvd and e.rcvd.code == 1001, f"close: {e.rcvd}")
        check(await server.exit_code() == 0, "exit status" + server.stderr())
