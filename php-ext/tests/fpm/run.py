"""Real PHP-FPM publishing through the control socket (docs/php.md, "Publishing from PHP-FPM").

    SWITCHBOARD_EXT=/path/libswitchboard_php.so .venv/bin/python php-ext/tests/fpm/run.py

Starts an in-process PHP server (server.php, with 'control' => 'unix:DIR/ctl.sock'), a php-fpm
pool on a Unix socket with the extension loaded (one worker, so its connection is reused across
requests), and two Python `websockets` clients. Requests made with `cgi-fcgi` run page.php,
which publishes and sends to a user: each client must get each message exactly once (a marker
sent last shows nothing came twice). Then the server stops: the page reports the error. Ends
with `N passed, N failed`.
"""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from websockets.asyncio.client import connect

HERE = os.path.dirname(os.path.abspath(__file__))
EXT = os.environ["SWITCHBOARD_EXT"]
PHP = os.environ.get("PHP", "php")
FPM = os.environ.get("PHP_FPM", "php-fpm8.2")
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


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), TIMEOUT)


async def scenario(tmp, url):
    ann = await connect(url + "/news?user=ann", open_timeout=TIMEOUT)
    bob = await connect(url + "/news?user=bob", open_timeout=TIMEOUT)
    for ws in (ann, bob):
        check("client subscribed", await recv(ws) == "ready")
    loop = asyncio.get_running_loop()
    call = lambda **q: loop.run_in_executor(None, lambda: page(tmp, **q))  # noqa: E731
    for i in range(5):
        out = await call(do="publish", topic="news", msg=f"m{i}")
        check(f"FPM request publish m{i}", out == "true", out)
    out = await call(do="user", user="ann", msg="for ann")
    check("FPM request sendToUser", out == "1", out)
    out = await call(do="publish", topic="news", msg="marker")
    check("FPM request publish marker", out == "true", out)
    stats = await call(do="stats")
    check("one pooled control connection across requests",
          "connections=2 control_connections=1" in stats, stats)
    want = {"ann": [f"m{i}" for i in range(5)] + ["for ann", "marker"],
            "bob": [f"m{i}" for i in range(5)] + ["marker"]}
    for name, ws in (("ann", ann), ("bob", bob)):
        got = [await recv(ws) for _ in want[name]]
        check(f"{name} got each message exactly once, in order", got == want[name], got)
    out = await call(do="server")
    check("a Server inside an FPM request is refused, pointing to Client",
          out.startswith("Switchboard\\Exception: Switchboard\\Server cannot run inside a web request (fpm-fcgi)")
          and "Switchboard\\Client" in out, out)
    for ws in (ann, bob):
        await ws.close()


def main():
    tmp = tempfile.mkdtemp(prefix="sb-fpm-")
    procs = []
    try:
        server = subprocess.Popen([PHP, "-d", f"extension={EXT}", os.path.join(HERE, "server.php"),
                                   "127.0.0.1:0", f"unix:{tmp}/ctl.sock"],
                                  stdout=subprocess.PIPE, text=True)
        procs.append(server)
        line = server.stdout.readline().strip()
        check("server starts", line.startswith("listening on "), line)
        root = ["-R"] if os.geteuid() == 0 else []
        fpm = subprocess.Popen([FPM, "-F", "-n", "-y", fpm_config(tmp), *root])
        procs.append(fpm)
        for _ in range(100):
            if os.path.exists(f"{tmp}/fpm.sock"):
                break
            time.sleep(0.1)  # php-fpm creates its socket when ready
        check("php-fpm starts", os.path.exists(f"{tmp}/fpm.sock"))
        asyncio.run(asyncio.wait_for(scenario(tmp, "ws://" + line.split()[-1]), TIMEOUT * 6))
        server.terminate()
        server.wait(TIMEOUT)
        out = page(tmp, do="publish", topic="news", msg="nobody")
        check("the server gone: the page gets Switchboard\\Exception",
              out.startswith("Switchboard\\Exception: control socket unix:") and "ctl.sock" in out, out)
    except Exception as e:  # noqa: BLE001 - any failure is the test's failure
        check("fpm scenario", False, f"{type(e).__name__}: {e}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(TIMEOUT)
                except subprocess.TimeoutExpired:
                    p.kill()
        for log in ("fpm.log", "php.log"):
            path = os.path.join(tmp, log)
            if failed and os.path.exists(path):
                print(f"--- {log}\n" + open(path).read())
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
