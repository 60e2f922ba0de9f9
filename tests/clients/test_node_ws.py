"""Node `ws` (npm) as the client: each test runs one case of ws_client.js against its own server."""

import asyncio
import os
import shutil

from harness import HERE, TestFailure

NODE = os.environ.get("NODE", "node")
NODE_TIMEOUT = 30.0


async def node_case(ctx, case, *flags):
    if not shutil.which(NODE):
        raise TestFailure(f"{NODE} not found")
    if not (HERE / "node_modules" / "ws").is_dir():
        raise TestFailure("tests/clients/node_modules/ws missing: run scripts/setup.sh")
    srv = await ctx.server(*flags)
    proc = await asyncio.create_subprocess_exec(
        NODE, str(HERE / "ws_client.js"), case, srv.url(), cwd=HERE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), NODE_TIMEOUT)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise TestFailure(f"node {case} still running after {NODE_TIMEOUT}s")
    text = out.decode(errors="replace").strip()
    if proc.returncode != 0 or text.splitlines()[-1:] != [f"ok {case}"]:
        raise TestFailure(f"node exit {proc.returncode}:\n" + text)


async def test_node_text_binary_echo_up_to_1mib(ctx):
    await node_case(ctx, "text_binary_echo", "--max-message-size", 1 << 20)


async def test_node_fragmented_send(ctx):
    await node_case(ctx, "fragmented")


async def test_node_subprotocol(ctx):
    await node_case(ctx, "subprotocol", "--subprotocol", "chat")


async def test_node_close_codes(ctx):
    await node_case(ctx, "close_codes")


async def test_node_ping_pong(ctx):
    await node_case(ctx, "ping_pong")
