"""chat.php with several Python clients: rooms, notices, private messages, the online timer."""

import asyncio
import json
import urllib.request

from websockets.asyncio.client import connect

from harness import check, chat_server


class Member:
    """A chat client that keeps what it receives, by type."""

    def __init__(self, ws):
        self.ws = ws
        self.inbox = []

    @classmethod
    async def join(cls, server, nick, room):
        m = cls(await connect(server.url("/chat")))
        await m.send(type="join", nick=nick, room=room)
        await m.expect(type="joined", nick=nick, room=room)
        return m

    async def send(self, **event):
        await self.ws.send(json.dumps(event))

    async def expect(self, timeout=5.0, **fields):
        """The first received event with these fields (earlier ones are kept)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.inbox:
                if all(event.get(k) == v for k, v in fields.items()):
                    self.inbox.remove(event)
                    return event
            remaining = deadline - loop.time()
            check(remaining > 0, f"no event {fields}; got {self.inbox}")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), remaining)
            except asyncio.TimeoutError:
                continue
            self.inbox.append(json.loads(raw))

    async def nothing(self, seconds=0.3, **fields):
        try:
            event = await self.expect(timeout=seconds, **fields)
        except AssertionError:
            return
        raise AssertionError(f"unexpected {event}")


async def test_rooms_and_notices():
    async with chat_server() as server:
        ann = await Member.join(server, "ann", "tea")
        bob = await Member.join(server, "bob", "tea")
        await ann.expect(type="joined", nick="bob", room="tea")
        cid = await Member.join(server, "cid", "coffee")

        await ann.send(type="say", text="hi tea")
        for m in (ann, bob):
            await m.expect(type="message", nick="ann", room="tea", text="hi tea")
        await cid.nothing(type="message")

        await cid.send(type="say", text="hi coffee")
        await cid.expect(type="message", nick="cid", text="hi coffee")
        await ann.nothing(type="message", text="hi coffee")

        # Switching rooms: a leave notice in the old one, a join notice in the new one.
        await bob.send(type="join", nick="bob", room="coffee")
        await ann.expect(type="left", nick="bob", room="tea")
        await cid.expect(type="joined", nick="bob", room="coffee")

        # Closing: a leave notice.
        await cid.ws.close()
        await bob.expect(type="left", nick="cid", room="coffee")
        for m in (ann, bob):
            await m.ws.close()


async def test_private_messages_reach_every_tab():
    async with chat_server() as server:
        tab1 = await Member.join(server, "dee", "r1")
        tab2 = await Member.join(server, "dee", "r2")
        eve = await Member.join(server, "eve", "r3")
        await eve.send(type="dm", to="dee", text="psst")
        for tab in (tab1, tab2):
            await tab.expect(type="dm", **{"from": "eve"}, text="psst")
        sent = await eve.expect(type="dm-sent")
        check(sent["copies"] == 2, f"dm-sent: {sent}")
        await eve.send(type="dm", to="nobody", text="?")
        check((await eve.expect(type="dm-sent"))["copies"] == 0, "dm to nobody")


async def test_online_count_timer():
    async with chat_server() as server:
        members = [await Member.join(server, f"u{i}", "r") for i in range(3)]
        for m in members:
            event = await m.expect(type="online", count=3, timeout=3)
            check(event["count"] == 3, f"online: {event}")


async def test_bad_input_is_answered():
    async with chat_server() as server:
        m = Member(await connect(server.url("/chat")))
        await m.ws.send("not json")
        await m.expect(type="error")
        await m.send(type="join", nick="", room="r")
        await m.expect(type="error")


async def test_page_is_served():
    async with chat_server() as server:
        def get():
            with urllib.request.urlopen(server.http("/"), timeout=5) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read().decode()
        status, ctype, body = await asyncio.to_thread(get)
        check(status == 200 and "text/html" in ctype, f"{status} {ctype}")
        check("Switchboard chat" in body and "new WebSocket" in body, "the chat page")
