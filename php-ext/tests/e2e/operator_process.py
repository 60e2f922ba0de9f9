"""The `switchboard` operator and PHP worker processes, for the worker tests.

The operator is $SWITCHBOARD_OPERATOR (default: target/release/switchboard, under
$CARGO_TARGET_DIR when set); it prints `listening on ADDR` and `control on ADDR`.
A worker script takes the control address (and a secret) and prints `attached`.
"""

import asyncio
import os
import tempfile
from pathlib import Path

from harness import EXT, PHP, ROOT, SERVERS, STARTUP_TIMEOUT, TestFailure, _default_signals, check

TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
OPERATOR = Path(os.environ.get("SWITCHBOARD_OPERATOR") or TARGET / "release" / "switchboard")


class Process:
    """A child process whose stderr is kept for failure messages."""

    name = "process"

    def __init__(self):
        self.proc = None
        self._stderr = tempfile.TemporaryFile()

    async def start(self, argv, first_lines):
        check(Path(argv[0]).exists() or argv[0] == PHP, f"{argv[0]} not found (build it first)")
        self.proc = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr, preexec_fn=_default_signals)
        lines = []
        for _ in range(first_lines):
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), STARTUP_TIMEOUT)
            except asyncio.TimeoutError:
                raise TestFailure(f"{self.name} printed nothing in {STARTUP_TIMEOUT}s" + self.stderr())
            check(line, f"{self.name} exited at start" + self.stderr())
            lines.append(line.decode(errors="replace").strip())
        return lines

    def signal(self, sig):
        self.proc.send_signal(sig)

    async def exit_code(self, timeout=10.0):
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise TestFailure(f"{self.name} still running after {timeout}s" + self.stderr())

    async def kill(self):
        if self.proc and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    def stderr(self):
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f"\n    stderr of {self.name}:\n      " + text.replace("\n", "\n      ") if text else ""


class Operator(Process):
    """`async with Operator() as op:` op.addr (WebSocket), op.control (for workers)."""

    name = "operator"

    def __init__(self, *args):
        super().__init__()
        self.args = list(args)
        self.dir = tempfile.TemporaryDirectory(prefix="sb-op-")
        self.control = f"unix:{self.dir.name}/control.sock"

    async def __aenter__(self):
        argv = [str(OPERATOR), "--listen", "127.0.0.1:0", "--control", self.control, *self.args]
        listening, control = await self.start(argv, 2)
        check(listening.startswith("listening on "), f"operator said {listening!r}" + self.stderr())
        check(control == f"control on {self.control}", f"operator said {control!r}")
        self.addr = listening.split()[2]
        return self

    async def __aexit__(self, *exc):
        await self.kill()
        self.dir.cleanup()

    def url(self, path="/"):
        return f"ws://{self.addr}{path}"


class Worker(Process):
    """A PHP worker process attached to `control`; `await Worker(...).attach()`."""

    def __init__(self, control, *args, script=SERVERS / "echo_worker.php", name="worker"):
        super().__init__()
        self.argv = [PHP, "-d", f"extension={EXT}", str(script), control, *map(str, args)]
        self.name = name

    async def attach(self):
        (line,) = await self.start(self.argv, 1)
        check(line == "attached", f"{self.name} said {line!r}" + self.stderr())
        asyncio.ensure_future(self._drain())
        return self

    async def _drain(self):
        while await self.proc.stdout.read(65536):
            pass
