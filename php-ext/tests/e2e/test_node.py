"""The same servers with Node's `ws` client (tests/clients/node_modules)."""

import asyncio
import os
import shutil

from harness import HERE, ROOT, check, chat_server, echo_server

NODE_MODULES = ROOT / "tests" / "clients" / "node_modules"


async def run_node(case, url):
    node = shutil.which("node")
    check(node, "node is not installed (scripts/setup.sh installs it)")
    check((NODE_MODULES / "ws").is_dir(), f"{NODE_MODULES}/ws missing (scripts/setup.sh installs it)")
    proc = await asyncio.create_subprocess_exec(
        node, str(HERE / "node_client.js"), case, url,
        env=dict(os.environ, NODE_PATH=str(NODE_MODULES)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    text = out.decode(errors="replace").strip()
    check(proc.returncode == 0 and text.endswith(f"ok {case}"), f"node {case}: {text}")


async def test_node_echo():
    async with echo_server() as server:
        await run_node("echo", server.url())


async def test_node_chat():
    async with chat_server() as server:
        await run_node("chat", server.url("/chat"))
