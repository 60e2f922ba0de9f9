"""PHP workers attached to the `switchboard` operator: a rolling restart of a pool
under load loses no message and closes no client, events wait for a worker, a
taken-over connection carries its user and topics, and attaching fails clearly."""

import asyncio
import signal

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness import EXT, PHP, ROOT, SERVERS, check
from operator_process import Operator, Worker

CLIENTS = 200
WINDOW = 4  # messages in flight per client


async def test_rolling_restart_of_two_workers_under_200_clients():
    async with Operator() as op:
        pool = [await Worker(op.control, name=f"worker {i}").attach() for i in range(2)]
        sockets = [await connect(op.url(f"/c{i}"), max_queue=None) for i in range(CLIENTS)]
        sending = True
        sent = [0] * CLIENTS
        problems = []

        async def client(i, ws):
            """Sends with up to WINDOW unanswered; every echo must be the next expected."""
            got = 0
            window = asyncio.Semaphore(WINDOW)

            async def reader():
                nonlocal got
                while got < sent[i] or sending:
                    data = await asyncio.wait_for(ws.recv(), 20)
                    if data != f"{i}:{got}":
                        problems.append(f"client {i}: expected {i}:{got}, got {data!r:.40}")
                        return
                    got += 1
                    window.release()

            reading = asyncio.ensure_future(reader())
            try:
                while sending and not reading.done():
                    await window.acquire()
                    await ws.send(f"{i}:{sent[i]}")
                    sent[i] += 1
                await reading
            except ConnectionClosed as e:
                problems.append(f"client {i} closed: {e.rcvd}")
            except asyncio.TimeoutError:
                problems.append(f"client {i}: no echo for 20 s after {got} of {sent[i]}")
            return got

        tasks = [asyncio.ensure_future(client(i, ws)) for i, ws in enumerate(sockets)]
        await asyncio.sleep(1.0)
        try:
            for round in range(2):
                for slot in range(2):
                    new = await Worker(op.control, name=f"worker {slot} round {round + 1}").attach()
                    old, pool[slot] = pool[slot], new
                    before = sum(sent)
                    old.signal(signal.SIGTERM)
                    status = await old.exit_code(20)
                    check(status == 0, f"{old.name} exited with {status}" + old.stderr())
                    check(old.stderr() == "", f"{old.name} wrote to stderr" + old.stderr())
                    await asyncio.sleep(0.5)
                    check(sum(sent) > before, "no traffic during the restart")
                    check(not problems, "; ".join(problems[:5]))
        finally:
            sending = False
        got = await asyncio.wait_for(asyncio.gather(*tasks), 40)
        check(not problems, "; ".join(problems[:5]))
        check(got == sent, "echoes missing: " + str([(i, g, s) for i, (g, s) in enumerate(zip(got, sent)) if g != s][:5]))
        check(min(sent) > 0, f"a client sent nothing: {sent}")
        for ws in sockets:
            await ws.close()
            check(ws.close_code == 1000, f"close code {ws.close_code}")
        for w in pool:
            w.signal(signal.SIGTERM)
            check(await w.exit_code() == 0, f"{w.name} exit" + w.stderr())
        print(f"    {sum(sent)} messages echoed through 4 restarts", flush=True)


test_rolling_restart_of_two_workers_under_200_clients.timeout = 150


async def test_events_wait_for_a_worker_then_arrive_in_order():
    async with Operator() as op:
        async with connect(op.url("/early")) as ws:
            for n in range(20):
                await ws.send(f"m{n}")
            await asyncio.sleep(0.3)
            worker = await Worker(op.control).attach()
            for n in range(20):
                got = await asyncio.wait_for(ws.recv(), 10)
                check(got == f"m{n}", f"expected m{n}, got {got!r}")
            await ws.send("whoami")
            got = await asyncio.wait_for(ws.recv(), 10)
            check(got == "new path=/early", f"whoami: {got!r}")
            await ws.send("count me")
            for want in ("hello you", "reached 1"):
                got = await asyncio.wait_for(ws.recv(), 10)
                check(got == want, f"expected {want!r}, got {got!r}")
            await ws.send("inspect")
            got = await asyncio.wait_for(ws.recv(), 10)
            check(got == "ids=1 workers=1 connections=1", f"inspect: {got!r}")
        worker.signal(signal.SIGTERM)
        check(await worker.exit_code() == 0, "exit status" + worker.stderr())


async def test_a_taken_over_connection_carries_its_user_and_topics():
    async with Operator() as op:
        first = await Worker(op.control, name="first").attach()
        async with connect(op.url("/t")) as ws:
            await ws.send("whoami")
            got = await asyncio.wait_for(ws.recv(), 10)
            check(got == "new path=/t", f"whoami: {got!r}")
            second = await Worker(op.control, name="second").attach()
            first.signal(signal.SIGTERM)
            check(await first.exit_code() == 0, "exit status" + first.stderr())
            await ws.send("whoami")
            got = await asyncio.wait_for(ws.recv(), 10)
            check(got.startswith("resumed user=user") and got.endswith(" topics=everyone"),
                  f"whoami after the restart: {got!r}")
        second.signal(signal.SIGTERM)
        check(await second.exit_code() == 0, "exit status" + second.stderr())


async def attach_error(address, secret=""):
    code = ("try { new Switchboard\\Worker($argv[1], ['secret' => $argv[2]]); echo 'attached'; }"
            " catch (Switchboard\\Exception $e) { echo get_class($e), ': ', $e->getMessage(); }")
    proc = await asyncio.create_subprocess_exec(
        PHP, "-d", f"extension={EXT}", "-r", code, address, secret, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    return out.decode(errors="replace").strip()


async def test_attaching_to_a_missing_socket_or_with_a_wrong_secret_throws():
    got = await attach_error("unix:/nonexistent/sb.sock")
    check(got == "Switchboard\\Exception: cannot attach to the operator: connecting to "
          "unix:/nonexistent/sb.sock: No such file or directory (os error 2)", got)
    got = await attach_error("nowhere")
    check(got.startswith("Switchboard\\Exception: address: "), got)
    async with Operator("--control-secret", "right") as op:
        got = await attach_error(op.control, "wrong")
        check(got == "Switchboard\\Exception: cannot attach to the operator: "
              "the operator refused the worker: wrong secret", got)
        got = await attach_error(op.control, "right")
        check(got == "attached", got)


async def test_a_worker_in_a_stream_select_loop_serves_hands_over_and_detaches():
    """eventFd() + poll(0, 1): events left in the worker (beyond max, or read while
    sendToUser() waited for its count) still wake the loop; info() answers; timers
    fire under poll(); stop() outside run() detaches and the connection moves on."""
    async with Operator() as op:
        selecting = await Worker(op.control, script=SERVERS / "select_worker.php",
                                 name="select worker").attach()
        ann = await connect(op.url("/a?user=ann"))
        recv = lambda: asyncio.wait_for(ann.recv(), 10)  # noqa: E731
        check(await recv() == "hello", "no greeting")
        # Three at once: poll(0, 1) takes one per wake; the rest must wake it again.
        for text in ("x1", "x2", "x3"):
            await ann.send(text)
        got = [await recv() for _ in range(3)]
        check(got == ["x1", "x2", "x3"], f"echoes {got}")
        await ann.send("info")
        info = await recv()
        check(info == "path=/a user=ann in=4 gone=NULL", f"info: {info!r}")
        # "after" arrives while sendToUser() waits for its answer: it waits in the worker.
        await ann.send("count me")
        await ann.send("after")
        got = [await recv() for _ in range(3)]
        check(got == ["hi you", "reached 1", "after"], f"got {got}")
        await asyncio.sleep(0.3)  # the timer is every 20 ms
        await ann.send("ticks")
        check(await recv() == "ticking", "no timer under poll()")
        # A second worker; stop() the first: ann moves over without a close.
        echo = await Worker(op.control, name="echo worker").attach()
        await ann.send("stop")
        check(await recv() == "stopping", "stop not answered")
        check(await selecting.exit_code(10) == 0, "select worker exit" + selecting.stderr())
        await ann.send("whoami")
        moved = await recv()
        check(moved == "resumed user=ann topics=", f"after the hand-over: {moved!r}")
        await ann.close()
        check(ann.close_code == 1000, f"close code {ann.close_code}")
        echo.signal(signal.SIGTERM)
        check(await echo.exit_code() == 0, "echo worker exit" + echo.stderr())


async def test_an_operator_shutdown_ends_its_workers_cleanly():
    """SIGTERM to the operator: clients get 1001, the workers get their closes and then
    the end of their events, and return from run() (exit 0, nothing on stderr); the same
    with the operator serving inline (--threads 0)."""
    for args in ([], ["--threads", "0"]):
        async with Operator(*args) as op:
            worker = await Worker(op.control, name=f"worker {args}").attach()
            ann = await connect(op.url("/a"))
            await ann.send("hi")
            check(await asyncio.wait_for(ann.recv(), 10) == "hi", "no echo")
            op.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(ann.recv(), 10)
                check(False, "a message after SIGTERM")
            except ConnectionClosed:
                check(ann.close_code == 1001, f"close code {ann.close_code}")
            check(await op.exit_code(10) == 0, f"operator {args} exit" + op.stderr())
            status = await worker.exit_code(10)
            check(status == 0 and worker.stderr() == "",
                  f"worker {args} exited {status}" + worker.stderr())
