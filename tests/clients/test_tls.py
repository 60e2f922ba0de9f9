"""TLS (wss://): Python `websockets` and Node `ws` over TLS, hostile handshakes with a
bystander checked after each, and a certificate reload (SIGHUP) under open connections.
The certificates are made at test time by tests/make-cert.sh."""

import asyncio
import os
import shutil
import signal
import ssl
import subprocess

from harness import HERE, TestFailure, check, client, echo, recv, timeout

NODE = os.environ.get("NODE", "node")


def make_cert(directory, name):
    """A self-signed certificate for 127.0.0.1 and its key: (cert path, key path)."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run([HERE.parent / "make-cert.sh", cert, key, name], check=True)
    return cert, key


def trusting(*certs):
    """A client context that trusts exactly these certificates, offering ALPN http/1.1."""
    context = ssl.create_default_context()
    context.load_verify_locations(cadata="".join(c.read_text() for c in certs))
    context.set_alpn_protocols(["http/1.1"])
    return context


async def tls_server(ctx, *flags, cert_name="server"):
    """A server with one TLS listener; returns it, its wss:// URL and the cert files."""
    cert, key = make_cert(ctx.tmpdir(), cert_name)
    srv = await ctx.server("--listen", "tls://127.0.0.1:0", "--tls-cert", cert, "--tls-key", key,
                           *flags, listen=0)
    return srv, f"wss://127.0.0.1:{srv.port}/", cert, key


def peer_cert(ws):
    return ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)


async def test_wss_websockets_echo_alpn_and_large_messages(ctx):
    srv, url, cert, _ = await tls_server(ctx, "--max-message-size", 4 << 20)
    async with client(url, ssl=trusting(cert), max_size=None) as ws:
        alpn = ws.transport.get_extra_info("ssl_object").selected_alpn_protocol()
        check(alpn == "http/1.1", f"ALPN: {alpn!r}")
        for payload in ["hello", "", "ünïcødé ✓", b"\x00\xff" * 10, os.urandom(3 << 20)]:
            await echo(ws, payload)
        for i in range(200):
            await ws.send(f"n{i}")
        for i in range(200):
            check(await recv(ws) == f"n{i}", f"message {i} out of order")


@timeout(60)
async def test_wss_50_clients_in_parallel(ctx):
    srv, url, cert, _ = await tls_server(ctx)
    context = trusting(cert)

    async def one(i):
        async with client(url, ssl=context, open_timeout=20) as ws:
            for j in range(20):
                await echo(ws, f"client {i} message {j}")

    await asyncio.gather(*(one(i) for i in range(50)))


async def test_node_ws_over_tls(ctx):
    if not shutil.which(NODE):
        raise TestFailure(f"{NODE} not found")
    srv, url, cert, _ = await tls_server(ctx, "--max-message-size", 1 << 20)
    for case in ["text_binary_echo", "close_codes", "ping_pong"]:
        proc = await asyncio.create_subprocess_exec(
            NODE, str(HERE / "ws_client.js"), case, url, cwd=HERE,
            env={**os.environ, "NODE_EXTRA_CA_CERTS": str(cert)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        text = out.decode(errors="replace").strip()
        check(proc.returncode == 0 and text.splitlines()[-1:] == [f"ok {case}"],
              f"node {case} over TLS: exit {proc.returncode}:\n{text}")


async def ends_within(reader, seconds):
    """True when the server ends the connection (EOF or reset) within `seconds`."""
    try:
        while await asyncio.wait_for(reader.read(4096), seconds):
            pass
        return True
    except asyncio.TimeoutError:
        return False
    except (ConnectionError, ssl.SSLError):
        return True


@timeout(60)
async def test_tls_hostile_handshakes_leave_a_bystander_served(ctx):
    srv, url, cert, _ = await tls_server(ctx, "--handshake-timeout", "1")
    context = trusting(cert)
    async with client(url, ssl=context) as bystander:
        await echo(bystander, "before")
        # Dropped at once: garbage instead of a ClientHello, and plain HTTP on the TLS port.
        for garbage in [b"\x00\x01\x02 this is no TLS record\r\n\r\n" * 4,
                        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"]:
            reader, writer = await asyncio.open_connection(srv.host, srv.port)
            writer.write(garbage)
            check(await ends_within(reader, 5), f"still connected after {garbage[:12]!r}")
            writer.close()
            await echo(bystander, "after garbage")
        # Dropped at the handshake timeout: a ClientHello cut short, silence before any
        # byte, and a completed TLS handshake whose HTTP head trickles in byte by byte.
        truncated = await asyncio.open_connection(srv.host, srv.port)
        truncated[1].write(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03]))
        silent = await asyncio.open_connection(srv.host, srv.port)
        slow = await asyncio.open_connection(srv.host, srv.port, ssl=context,
                                             server_hostname="127.0.0.1")

        async def trickle():
            for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n":
                if slow[0].at_eof():
                    return
                slow[1].write(bytes([byte]))
                await asyncio.sleep(0.2)

        trickling = asyncio.ensure_future(trickle())
        await echo(bystander, "while three handshakes stall")
        for name, (reader, writer) in [("truncated ClientHello", truncated), ("silence", silent),
                                       ("slowloris over TLS", slow)]:
            check(await ends_within(reader, 10), f"{name}: still connected after 10 s")
            writer.close()
        trickling.cancel()
        await echo(bystander, "after the stalls")


async def test_tls_certificate_reload_on_sighup(ctx):
    directory = ctx.tmpdir()
    first = make_cert(directory, "first")
    second = make_cert(directory, "second")
    live_cert, live_key = directory / "live.crt", directory / "live.key"
    shutil.copy(first[0], live_cert)
    shutil.copy(first[1], live_key)
    srv = await ctx.server("--listen", "tls://127.0.0.1:0", "--tls-cert", live_cert,
                           "--tls-key", live_key, listen=0)
    url = f"wss://127.0.0.1:{srv.port}/"
    context = trusting(first[0], second[0])
    first_der = ssl.PEM_cert_to_DER_cert(first[0].read_text())
    second_der = ssl.PEM_cert_to_DER_cert(second[0].read_text())
    async with client(url, ssl=context) as old:
        check(peer_cert(old) == first_der, "the first certificate is served")
        shutil.copy(second[0], live_cert)
        shutil.copy(second[1], live_key)
        srv.proc.send_signal(signal.SIGHUP)
        deadline = asyncio.get_running_loop().time() + 10
        while True:  # the echo example reloads within its 100 ms serving slice
            async with client(url, ssl=context) as new:
                if peer_cert(new) == second_der:
                    await echo(new, "renewed certificate")
                    break
            check(asyncio.get_running_loop().time() < deadline, "SIGHUP did not reload")
            await asyncio.sleep(0.05)
        await echo(old, "the old session goes on")
