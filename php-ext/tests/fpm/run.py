"""Real PHP-FPM publishing through the control socket (docs/php.md, "Publishing from PHP-FPM").

    SWITCHBOARD_EXT=/path/libswitchboard_php.so .venv/bin/python php-ext/tests/fpm/run.py

Runs the same scenario against two deployments, each with its own php-fpm pool on a Unix
socket with the extension loaded (one FPM worker, so its connection is reused across
requests) and two Python `websockets` clients:

- in-process: a PHP server (server.php, with 'control' => 'unix:DIR/ctl.sock');
- operator: the `switchboard` program (--control unix:DIR/ctl.sock) with one PHP worker
  (worker.php) attached. The operator is $SWITCHBOARD_OPERATOR, by default
  target/release/switchboard under $CARGO_TARGET_DIR when set.

Requests made with `cgi-fcgi` run page.php, which publishes and sends to a user: each client
must get each message exactly once (a marker sent last shows nothing came twice). Then the
server stops on SIGTERM: the page reports the error. Ends with `N passed, N failed`.
"""

import asyncio
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from websockets.asyncio.client import connect

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
EXT = os.environ["SWITCHBOARD_EXT"]
PHP = os.environ.get("PHP", "php")
FPM = os.environ.get("PHP_FPM", "php-fpm8.2")
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
OPERATOR = os.environ.get("SWITCHBOARD_OPERATOR") or os.path.join(TARGET, "release", "switchboard")
TIMEOUT = 10

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")
    return ok


def fpm_config(tmp):
    path = os.path.join(tmp, "fpm.conf")
    with open(path, "w") as f:
        f.write(f"""[global]
error_log = {tmp}/fpm.log
daemonize = no
[test]
listen = {tmp}/fpm.sock
pm = static
pm.max_children = 1
clear_env = no
catch_workers_output = yes
php_admin_value[extension] = {EXT}
php_admin_value[error_log] = {tmp}/php.log
""")
    return path


def page(tmp, **query):
    """One FastCGI request to page.php; its body."""
    env = dict(os.environ, SCRIPT_FILENAME=os.path.join(HERE, "page.php"), REQUEST_METHOD="GET",
               QUERY_STRING=urllib.parse.urlencode(dict(query, control=f"unix:{tmp}/ctl.sock")))
    out = subprocess.run(["cgi-fcgi", "-bind", "-connect", f"{tmp}/fpm.sock"], env=env,
                         capture_output=True, timeout=TIMEOUT, check=False).stdout.decode()
    return out.split("\r\n\r\n", 1)[-1].strip()


def start(tmp, name, argv, lines):
    """Starts a child whose stderr goes to DIR/NAME.err; returns it and its first `lines`
    stdout lines (fewer when it prints nothing more within TIMEOUT seconds)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(f"{tmp}/{name}.err", "w"),
                            stdin=subprocess.DEVNULL, text=True)
    got = queue.Queue()

    def read():
        for line in proc.stdout:  # ends when the child closes its stdout
            got.put(line.strip())

    threading.Thread(target=read, daemon=True).start()
    first = []
    deadline = time.monotonic() + TIMEOUT
    while len(first) < lines:
        try:
            first.append(got.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            break
    return proc, first


def in_process(tmp, procs):
    """The in-process PHP server; returns its WebSocket address and the process to stop."""
    server, lines = start(tmp, "server", [PHP, "-d", f"extension={EXT}",
                                          os.path.join(HERE, "server.php"), "127.0.0.1:0",
                                          f"unix:{tmp}/ctl.sock"], 1)
    procs.append(server)
    line = lines[0] if lines else ""
    if not check("in-process: server starts", line.startswith("listening on "), line):
        return None, server
    return line.split()[-1], server


def operator(tmp, procs):
    """The operator with one PHP worker; returns its WebSocket address and the process to stop."""
    if not check("operator: binary present", os.access(OPERATOR, os.X_OK),
                 f"{OPERATOR} (cargo build --release -p switchboard-operator)"):
        return None, None
    control = f"unix:{tmp}/ctl.sock"
    op, lines = start(tmp, "operator", [OPERATOR, "--listen", "127.0.0.1:0", "--control", control], 2)
    procs.append(op)
    ok = len(lines) == 2 and lines[0].startswith("listening on ") and lines[1] == f"control on {control}"
    if not check("operator: starts", ok, lines):
        return None, op
    worker, attached = start(tmp, "worker", [PHP, "-d", f"extension={EXT}",
                                             os.path.join(HERE, "worker.php"), control], 1)
    procs.append(worker)
    if not check("operator: PHP worker attaches", attached == ["attached"], attached):
        return None, op
    return lines[0].split()[2], op


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), TIMEOUT)


async def scenario(label, tmp, url, stats_want):
    ann = await connect(url + "/news?user=ann", open_timeout=TIMEOUT)
    bob = await connect(url + "/news?user=bob", open_timeout=TIMEOUT)
    for ws in (ann, bob):
        check(f"{label}: client subscribed", await recv(ws) == "ready")
    loop = asyncio.get_running_loop()
    call = lambda **q: loop.run_in_executor(None, lambda: page(tmp, **q))  # noqa: E731
    for i in range(5):
        out = await call(do="publish", topic="news", msg=f"m{i}")
        check(f"{label}: FPM request publish m{i}", out == "true", out)
    out = await call(do="user", user="ann", msg="for ann")
    check(f"{label}: FPM request sendToUser", out == "1", out)
    out = await call(do="publish", topic="news", msg="marker")
    check(f"{label}: FPM request publish marker", out == "true", out)
    stats = await call(do="stats")
    check(f"{label}: one pooled control connection across requests ({stats_want})",
          f"{stats_want} pid=" in stats, stats)
    want = {"ann": [f"m{i}" for i in range(5)] + ["for ann", "marker"],
            "bob": [f"m{i}" for i in range(5)] + ["marker"]}
    for name, ws in (("ann", ann), ("bob", bob)):
        got = [await recv(ws) for _ in want[name]]
        check(f"{label}: {name} got each message exactly once, in order", got == want[name], got)
    out = await call(do="server")
    check(f"{label}: a Server inside an FPM request is refused, pointing to Client",
          out.startswith("Switchboard\\Exception: Switchboard\\Server cannot run inside a web request (fpm-fcgi)")
          and "Switchboard\\Client" in out, out)
    for ws in (ann, bob):
        await ws.close()


def deployment(label, deploy, stats_want):
    """Runs the scenario against the server `deploy` starts, then stops it with SIGTERM."""
    failed_before = failed
    tmp = tempfile.mkdtemp(prefix="sb-fpm-")
    procs = []
    try:
        addr, server = deploy(tmp, procs)
        if addr is None:
            return
        root = ["-R"] if os.geteuid() == 0 else []
        fpm = subprocess.Popen([FPM, "-F", "-n", "-y", fpm_config(tmp), *root])
        procs.append(fpm)
        for _ in range(100):
            if os.path.exists(f"{tmp}/fpm.sock"):
                break
            time.sleep(0.1)  # php-fpm creates its socket when ready
        check(f"{label}: php-fpm starts", os.path.exists(f"{tmp}/fpm.sock"))
        asyncio.run(asyncio.wait_for(scenario(label, tmp, "ws://" + addr, stats_want), TIMEOUT * 6))
        server.send_signal(signal.SIGTERM)
        code = server.wait(TIMEOUT)
        check(f"{label}: the server exits 0 on SIGTERM", code == 0, f"exit status {code}")
        out = page(tmp, do="publish", topic="news", msg="nobody")
        check(f"{label}: the server gone: the page gets Switchboard\\Exception",
              out.startswith("Switchboard\\Exception: control socket unix:") and "ctl.sock" in out, out)
    except Exception as e:  # noqa: BLE001 - any failure is the test's failure
        check(f"{label}: fpm scenario", False, f"{type(e).__name__}: {e}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(TIMEOUT)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(TIMEOUT)
        if failed > failed_before:
            for log in sorted(os.listdir(tmp)):
                path = os.path.join(tmp, log)
                if log.endswith((".log", ".err")) and os.path.getsize(path):
                    print(f"--- {label}: {log}\n" + open(path, errors="replace").read())
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    deployment("in-process", in_process, "connections=2 control_connections=1")
    deployment("operator", operator, "connections=2 control_connections=2 workers=1")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
