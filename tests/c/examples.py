"""Drives the C examples (ffi/examples) with real WebSocket clients.

    python examples.py echo|echo-tls|chat COMMAND [ARG]...

COMMAND runs the example (possibly under valgrind); `--listen 127.0.0.1:0` is appended. The
example must print `listening on ADDR` first, serve the checks below, and exit with status 0
after SIGTERM, its clients having received 1001. `echo-tls` adds a TLS listener first (a
certificate made by tests/make-cert.sh) and runs the echo checks over wss://, then
reloads the certificate with SIGHUP.
"""

import asyncio
import signal
import ssl
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

MAKE_CERT = Path(__file__).resolve().parents[1] / "make-cert.sh"

from clients import TIMEOUT, check, closed, dial, expect, refused


async def start(argv, scheme="ws"):
    proc = await asyncio.create_subprocess_exec(
        *argv, "--listen", "127.0.0.1:0", stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE)
    line = await asyncio.wait_for(proc.stdout.readline(), TIMEOUT * 3)
    text = line.decode().strip()
    check(text.startswith("listening on "), f"unexpected first line {line!r}")
    return proc, f"{scheme}://" + text.split(" ")[2]


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1, and a client context that trusts it."""
    cert, key = Path(directory) / "cert.pem", Path(directory) / "key.pem"
    subprocess.run([MAKE_CERT, str(cert), str(key)], check=True)
    context = ssl.create_default_context(cafile=str(cert))
    return cert, key, context


async def echo_tls(argv):
    with tempfile.TemporaryDirectory() as directory:
        cert, key, context = make_cert(directory)
        flags = ["--listen", "tls://127.0.0.1:0", "--tls-cert", str(cert), "--tls-key", str(key)]
        proc, url = await start(argv + flags, "wss")
        try:
            a = await dial(url, "/", ssl=context)
            b = await dial(url, "/", ssl=context)
            await echo_and_broadcast(a, b)
            proc.send_signal(signal.SIGHUP)  # the same files again: nothing changes for a, b
            c = await dial(url, "/", ssl=context)
            await c.send("after the reload")
            await expect(c, "after the reload")
            await a.send("still here")
            await expect(a, "still here")
            await stop(proc, [a, b, c])
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def echo_and_broadcast(a, b):
    """Echoes of every kind to `a`, then a broadcast from `a` that `b` gets too."""
    for payload in ["hello", b"\x00\xff", "", "x" * 70000]:
        await a.send(payload)
        await expect(a, payload)
    await a.send("B:to everyone")
    await expect(a, "B:to everyone")
    await expect(b, "B:to everyone")


async def stop(proc, clients):
    proc.send_signal(signal.SIGTERM)
    for ws in clients:
        code, _ = await closed(ws)
        check(code == 1001, f"expected 1001 at shutdown, got {code}")
    status = await asyncio.wait_for(proc.wait(), TIMEOUT * 3)
    check(status == 0, f"exit status {status}")


async def echo(argv):
    proc, url = await start(argv)
    try:
        a = await dial(url, "/")
        b = await dial(url, "/")
        await echo_and_broadcast(a, b)
        await stop(proc, [a, b])
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def chat(argv):
    proc, url = await start(argv)
    try:
        alice = await dial(url, "/lobby?name=alice")
        await expect(alice, "* alice joined lobby")
        bob = await dial(url, "/lobby?name=bob")
        for ws in (alice, bob):
            await expect(ws, "* bob joined lobby")
        carol = await dial(url, "/other?name=carol")
        await expect(carol, "* carol joined other")
        await alice.send("hi")
        for ws in (alice, bob):
            await expect(ws, "alice: hi")
        await carol.send("anyone?")
        await expect(carol, "carol: anyone?")  # nothing from the lobby came first
        await refused(url, "/lobby", 400, None)
        await refused(url, "/?name=dave", 400, None)
        await refused(url, "/lobby?name=no%20spaces", 400, None)
        await bob.send(b"\x01")
        code, _ = await closed(bob)
        check(code == 1003, f"binary message: expected 1003, got {code}")
        await stop(proc, [alice, carol])
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def main():
    examples = {"echo": echo, "echo-tls": echo_tls, "chat": chat}
    if len(sys.argv) < 3 or sys.argv[1] not in examples:
        sys.exit("usage: examples.py echo|echo-tls|chat COMMAND [ARG]...")
    try:
        asyncio.run(asyncio.wait_for(examples[sys.argv[1]](sys.argv[2:]), TIMEOUT * 6))
    except Exception as e:  # noqa: BLE001 - any failure is the check's failure
        traceback.print_exc()
        print(f"example {sys.argv[1]}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
