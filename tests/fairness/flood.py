#!/usr/bin/env python3
"""Starvation check: flooders must not keep a newcomer from being served.

    flood.py ws://127.0.0.1:PORT [--clients 50] [--size 1024] [--window 1024]
             [--newcomer-at 2] [--limit 2]

CLIENTS connections send SIZE-byte binary messages as fast as they can (each with at
most WINDOW messages unanswered, and no more queued in the client than the socket
takes), reading the echoes as they come. NEWCOMER_AT seconds in, one more client
connects, sends one message and waits for its echo. Prints the newcomer's handshake
and reply times; exits 1 if either the handshake or the reply took more than LIMIT
seconds (each is waited for at most 2 x LIMIT + 1 s, so a run lasts about 10 s at
most), or if the flood did not get going. A starvation check with a wide margin,
not a speed measurement.
"""

import argparse
import asyncio
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


class Flooder:
    def __init__(self, url, size, window):
        self.url, self.size, self.window = url, size, window
        self.sent = 0
        self.received = 0
        self.error = None
        self.answered = asyncio.Event()  # set whenever an echo arrives

    async def run(self, ready, stop):
        try:
            # No ping timeouts: a flooded server answers pings late, by design.
            async with connect(self.url, open_timeout=10, ping_interval=None,
                               max_queue=None, close_timeout=0.2) as ws:
                ready.set()
                reader = asyncio.create_task(self.read(ws))
                payload = bytes(self.size)
                while not stop.is_set():
                    if self.sent - self.received >= self.window:
                        self.answered.clear()
                        await self.answered.wait()
                        continue
                    # Returns once the socket took the frame: no unbounded buffering.
                    await ws.send(payload)
                    self.sent += 1
                reader.cancel()
        except (ConnectionClosed, OSError, asyncio.TimeoutError) as e:
            if not stop.is_set():
                self.error = f"{type(e).__name__}: {e}"
            ready.set()

    async def read(self, ws):
        async for _ in ws:
            self.received += 1
            self.answered.set()


async def newcomer(url, size, limit):
    """Returns (handshake seconds, reply seconds); None for one that did not finish."""
    wait = 2 * limit + 1
    started = time.monotonic()
    try:
        ws = await asyncio.wait_for(
            connect(url, open_timeout=None, ping_interval=None, close_timeout=0.2), wait)
    except (asyncio.TimeoutError, OSError, ConnectionClosed) as e:
        print(f"newcomer: no handshake: {type(e).__name__}: {e}")
        return None, None
    handshake = time.monotonic() - started
    message = b"newcomer" + bytes(size - 8)
    try:
        sent = time.monotonic()
        await ws.send(message)
        while True:
            reply = await asyncio.wait_for(ws.recv(), wait - (time.monotonic() - sent))
            if reply == message:
                return handshake, time.monotonic() - sent
    except (asyncio.TimeoutError, ConnectionClosed) as e:
        print(f"newcomer: no reply: {type(e).__name__}: {e}")
        return handshake, None
    finally:
        ws.transport.abort()


def seconds(value):
    return "did not finish" if value is None else f"{value:.3f} s"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--window", type=int, default=1024)
    parser.add_argument("--newcomer-at", type=float, default=2.0)
    parser.add_argument("--limit", type=float, default=2.0)
    args = parser.parse_args()
    if args.size < 8:
        parser.error("--size must be at least 8")

    stop = asyncio.Event()
    flooders = [Flooder(args.url, args.size, args.window) for _ in range(args.clients)]
    readies = [asyncio.Event() for _ in flooders]
    tasks = [asyncio.create_task(f.run(r, stop)) for f, r in zip(flooders, readies)]
    began = time.monotonic()
    await asyncio.sleep(args.newcomer_at)
    connected = sum(r.is_set() for r in readies)
    sent_before = sum(f.sent for f in flooders)
    handshake, reply = await newcomer(args.url, args.size, args.limit)
    stop.set()
    for f in flooders:
        f.answered.set()
    await asyncio.wait(tasks, timeout=1)
    for t in tasks:
        t.cancel()
    elapsed = time.monotonic() - began

    sent = sum(f.sent for f in flooders)
    received = sum(f.received for f in flooders)
    errors = [f.error for f in flooders if f.error]
    print(f"flood: {args.clients} clients ({connected} connected at {args.newcomer_at:g} s), "
          f"{sent} messages sent ({sent_before} before the newcomer), {received} echoed, "
          f"{len(errors)} errors, {elapsed:.1f} s")
    for e in errors[:3]:
        print(f"  flooder error: {e}")
    print(f"newcomer: handshake {seconds(handshake)}, reply {seconds(reply)} "
          f"(limit {args.limit:g} s each)")
    ok = True
    if connected < args.clients or sent_before < 10 * args.clients:
        print("FAIL: the flood did not get going")
        ok = False
    if handshake is None or handshake > args.limit or reply is None or reply > args.limit:
        print("FAIL: the newcomer was starved")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
