"""Handshake authorization by token and cookie (servers/auth.php), and sendToUser."""

import asyncio

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from harness import SERVERS, PhpServer, check


def auth_server():
    return PhpServer(SERVERS / "auth.php")


async def test_token_and_cookie():
    async with auth_server() as server:
        async with connect(server.url("/?token=tok-ann")) as ws:
            await ws.send("whoami")
            check(await ws.recv() == "ann", "token user")
            check(ws.response.headers.get("X-User") == "ann", "response header")
        async with connect(server.url("/"), additional_headers={"Cookie": "a=b; session=sess-cid"},
                           subprotocols=["chat.v1"]) as ws:
            await ws.send("whoami")
            check(await ws.recv() == "cid", "cookie user")
            check(ws.subprotocol == "chat.v1", f"subprotocol {ws.subprotocol}")


async def test_refused_without_credentials():
    async with auth_server() as server:
        for url, headers in [(server.url("/"), {}), (server.url("/?token=wrong"), {}),
                             (server.url("/"), {"Cookie": "session=forged"})]:
            try:
                async with connect(url, additional_headers=headers):
                    raise AssertionError(f"{url} {headers}: accepted")
            except InvalidStatus as e:
                check(e.response.status_code == 401, f"status {e.response.status_code}")
        # The server is still fine.
        async with connect(server.url("/?token=tok-bob")) as ws:
            await ws.send("whoami")
            check(await ws.recv() == "bob", "after refusals")


async def test_send_to_user_across_two_connections():
    async with auth_server() as server:
        tab1 = await connect(server.url("/?token=tok-ann"))
        tab2 = await connect(server.url("/?token=tok-ann"))
        bob = await connect(server.url("/?token=tok-bob"))
        await bob.send("to:ann:hello ann")
        check(await bob.recv() == "2", "two copies")
        for tab in (tab1, tab2):
            check(await asyncio.wait_for(tab.recv(), 5) == "hello ann", "each tab")
        await tab1.close()
        # The server forgets the closed tab on its own time: ask until it has (each
        # answer reaches the remaining tab), within a generous bound.
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            await bob.send("to:ann:again")
            copies = await bob.recv()
            check(copies in ("1", "2"), f"{copies} copies")
            check(await asyncio.wait_for(tab2.recv(), 5) == "again", "remaining tab")
            if copies == "1":
                break
            check(asyncio.get_running_loop().time() < deadline, "still two copies 10 s after a tab closed")
            await asyncio.sleep(0.05)
        await bob.send("to:nobody:x")
        check(await bob.recv() == "0", "nobody")
