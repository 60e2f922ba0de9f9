"""PHP servers under test, started as child processes with the extension loaded.

The extension is $SWITCHBOARD_EXT (default: target/release/libswitchboard_php.so from
the repository root); the PHP binary is $PHP (default: php). A server script takes its
listen address as its first argument and prints `listening on ADDR` as its first line.
"""

import asyncio
import os
import re
import signal
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
EXAMPLES = ROOT / "php-ext" / "examples"
SERVERS = HERE / "servers"
EXT = Path(os.environ.get("SWITCHBOARD_EXT") or ROOT / "target" / "release" / "libswitchboard_php.so")
PHP = os.environ.get("PHP", "php")
STARTUP_TIMEOUT = 15.0


class TestFailure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def _default_signals():
    # A shell running us in the background may have set SIGINT to "ignore", which
    # the child would inherit; the tests need the default dispositions.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class PhpServer:
    """`async with PhpServer(script, *args) as server:`; killed on exit if still running."""

    def __init__(self, script, *args, env=None):
        self.script = Path(script)
        self.args = [str(a) for a in args]
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.addr = None
        self._stderr = tempfile.TemporaryFile()

    async def __aenter__(self):
        argv = [PHP, "-d", f"extension={EXT}", str(self.script), "127.0.0.1:0", *self.args]
        self.proc = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, env=self.env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=self._stderr, preexec_fn=_default_signals)
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), STARTUP_TIMEOUT)
        except asyncio.TimeoutError:
            raise TestFailure(f"{self.script.name} printed nothing in {STARTUP_TIMEOUT}s" + self.stderr())
        m = re.fullmatch(r"listening on (\S+)(?: .*)?", line.decode(errors="replace").strip())
        check(m, f"{self.script.name}: unexpected first line {line!r}" + self.stderr())
        self.addr = m.group(1)
        asyncio.ensure_future(self._drain())
        return self

    async def __aexit__(self, *exc):
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def _drain(self):
        while await self.proc.stdout.read(65536):
            pass

    def url(self, path="/"):
        return f"ws://{self.addr}{path}"

    def http(self, path="/"):
        return f"http://{self.addr}{path}"

    def signal(self, sig):
        self.proc.send_signal(sig)

    async def exit_code(self, timeout=10.0):
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise TestFailure(f"{self.script.name} still running after {timeout}s" + self.stderr())

    def stderr(self):
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f"\n    stderr of {self.script.name}:\n      " + text.replace("\n", "\n      ") if text else ""


def echo_server(*args, **kw):
    return PhpServer(EXAMPLES / "echo.php", *args, **kw)


def chat_server(*args, online_every="0.2", **kw):
    return PhpServer(EXAMPLES / "chat.php", *args, env={"CHAT_ONLINE_EVERY": online_every}, **kw)
