"""Runs the real-client integration tests (tests/clients/test_*.py) against the echo example.

  tests/clients/run.sh [-k SUBSTRING]... [--list]     (= .venv/bin/python tests/clients/run.py)

Each test is an `async def test_*(ctx)` that starts its own server(s) through `ctx.server(...)`;
each runs in a fresh event loop with a time limit, and its servers are killed afterwards. A
server that exits on its own during a test fails that test. See harness.py for SERVER_CMD.
Ends with the line `N passed, N failed`; exits 1 on any failure.
"""

import argparse
import asyncio
import importlib
import inspect
import os
import signal
import sys
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import HERE  # noqa: E402

DEFAULT_TIMEOUT = 20.0
SUITE_BUDGET = 150.0  # seconds; tests that would start later are failed without running


def collect(patterns):
    tests = []
    for path in sorted(HERE.glob("test_*.py")):
        mod = importlib.import_module(path.stem)
        for name, fn in vars(mod).items():
            if name.startswith("test_") and inspect.iscoroutinefunction(fn):
                tid = f"{path.name}::{name}"
                if not patterns or any(p in tid for p in patterns):
                    tests.append((tid, fn))
    return tests


def where(exc):
    """The lines of the test files in exc's traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).parent == HERE and Path(f.filename).name != "run.py"]
    return "\n".join(f"  {Path(f.filename).name}:{f.lineno}: {f.line}" for f in frames)


async def run_one(fn):
    ctx = harness.Context()
    limit = getattr(fn, "timeout", DEFAULT_TIMEOUT)
    error = None
    task = asyncio.ensure_future(fn(ctx))
    done, _ = await asyncio.wait({task}, timeout=limit)
    if not done:
        task.cancel()
        await asyncio.wait({task})
        error = f"test timed out after {limit}s" + ctx.diagnostics()
    else:
        try:
            task.result()
        except asyncio.TimeoutError as e:  # one operation inside the test timed out
            error = "timed out waiting, at:\n" + where(e) + ctx.diagnostics()
        except AssertionError as e:
            error = (str(e) or "assertion failed, at:\n" + where(e)) + ctx.diagnostics()
        except Exception as e:
            error = f"{e.__class__.__name__}: {e}, at:\n" + where(e) + ctx.diagnostics()
    problems = await ctx.cleanup()
    if error is None and problems:
        error = "\n".join(problems)
    return error


def main():
    if not __debug__:  # -O or PYTHONOPTIMIZE would strip any `assert` in the tests
        print("run the tests without -O (PYTHONOPTIMIZE)")
        print("0 passed, 1 failed")
        return 1
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTRING",
                    help="run only tests whose id contains SUBSTRING (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    args = ap.parse_args()

    tests = collect(args.k)
    if args.list:
        print("\n".join(t for t, _ in tests))
        return 0
    if not tests:
        print("no tests selected")
        print("0 passed, 0 failed")
        return 1
    reason = harness.server_available()
    if reason:
        print(f"cannot run: {reason}")
        print(f"0 passed, {len(tests)} failed")
        return 1

    def interrupted(signum, frame):
        harness.kill_all_servers()
        print(f"clients: interrupted by {signal.Signals(signum).name}", flush=True)
        os._exit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)

    passed, failed = 0, []
    start = time.monotonic()
    for tid, fn in tests:
        if time.monotonic() - start > SUITE_BUDGET:
            failed.append(tid)
            print(f"FAIL {tid}: not run, the suite exceeded its {SUITE_BUDGET:.0f}s budget",
                  flush=True)
            continue
        t0 = time.monotonic()
        error = asyncio.run(run_one(fn))
        dt = time.monotonic() - t0
        if error is None:
            passed += 1
            print(f"PASS {tid} ({dt:.2f}s)", flush=True)
        else:
            failed.append(tid)
            print(f"FAIL {tid} ({dt:.2f}s): " + error.replace("\n", "\n    "), flush=True)
    print(f"clients: {time.monotonic() - start:.1f}s; failed: {' '.join(failed) or 'none'}")
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
