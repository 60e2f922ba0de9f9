"""'threads' => 0 (no I/O thread; the engine runs inside run() or poll()): echo, a
broadcast between two clients, and SIGTERM during traffic, served by run() and by a
poll() loop (servers/inline.php)."""

import asyncio
import signal
from pathlib import Path

from websockets.asyncio.client import connect

from harness import SERVERS, PhpServer, check, echo_server
from test_sigterm import traffic_then


def io_threads(server):
    """How many of the engine's I/O threads the PHP process has."""
    tasks = Path(f"/proc/{server.proc.pid}/task").iterdir()
    return sum((task / "comm").read_text().startswith("switchboard-io") for task in tasks)


async def echo_and_broadcast(server):
    """Returns how many I/O threads the server had while serving."""
    async with connect(server.url(), max_size=None) as a, connect(server.url()) as b:
        for message in ["hello", b"\x00\xff", "x" * 100000]:
            await a.send(message)
            check(await asyncio.wait_for(a.recv(), 5) == message, f"echo of {message[:20]!r}")
        await b.send("B:to both")
        for ws in (a, b):
            got = await asyncio.wait_for(ws.recv(), 5)
            check(got == "B:to both", f"broadcast: got {got!r}")
        return io_threads(server)


async def test_run_without_io_threads():
    async with PhpServer(SERVERS / "inline.php") as server:
        check(await echo_and_broadcast(server) == 0, "an I/O thread runs in inline mode")
        await traffic_then(server, signal.SIGTERM)


async def test_poll_loop_without_io_threads():
    async with PhpServer(SERVERS / "inline.php", "--poll") as server:
        check(await echo_and_broadcast(server) == 0, "an I/O thread runs in inline mode")
        await traffic_then(server, signal.SIGTERM)


async def test_threads_are_counted():
    """The control: by default the engine's I/O threads are there, and seen."""
    async with echo_server() as server:
        check(await echo_and_broadcast(server) > 0, "no I/O thread seen in the default mode")
