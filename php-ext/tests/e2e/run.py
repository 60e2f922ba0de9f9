"""Runs the end-to-end tests (test_*.py here): PHP servers driven by real clients.

  .venv/bin/python php-ext/tests/e2e/run.py [-k SUBSTRING]...

Each test is an `async def test_*()` run in a fresh event loop with a time limit.
Prints one line per test and ends with `N passed, N failed`; exits 1 on any failure,
and when no test was found or selected.
"""

import argparse
import asyncio
import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import HERE, EXT  # noqa: E402

TIMEOUT = 30.0


def collect(patterns):
    tests = []
    for path in sorted(HERE.glob("test_*.py")):
        module = importlib.import_module(path.stem)
        for name, fn in vars(module).items():
            if name.startswith("test_") and inspect.iscoroutinefunction(fn):
                tid = f"{path.stem}::{name}"
                if not patterns or any(p in tid for p in patterns):
                    tests.append((tid, fn))
    return tests


def main():
    if not __debug__:  # -O or PYTHONOPTIMIZE would strip any `assert` in the tests
        print("run the tests without -O (PYTHONOPTIMIZE)")
        print("0 passed, 1 failed")
        return 1
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", action="append", default=[], help="run tests whose id contains this")
    args = parser.parse_args()
    if not EXT.exists():
        print(f"extension not found: {EXT} (build it, or set SWITCHBOARD_EXT)")
        print("0 passed, 1 failed")
        return 1
    tests = collect(args.k)
    if not tests:
        print(f"FAIL no test found in {HERE}" + (f" for -k {' '.join(args.k)}" if args.k else ""))
        print("0 passed, 0 failed")
        return 1
    passed = failed = 0
    for tid, fn in tests:
        started = time.monotonic()
        try:
            asyncio.run(asyncio.wait_for(fn(), getattr(fn, "timeout", TIMEOUT)))
            passed += 1
            print(f"PASS {tid} ({time.monotonic() - started:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            failed += 1
            detail = str(e) or type(e).__name__
            if not isinstance(e, AssertionError):
                detail = "".join(traceback.format_exception(e)).strip()
            print(f"FAIL {tid}: {detail}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
