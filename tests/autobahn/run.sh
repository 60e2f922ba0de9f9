#!/usr/bin/env bash
# Autobahn TestSuite (wstest fuzzingclient, from ../shared/autobahn) against the echo example,
# compared case by case with the verdicts recorded in tests/autobahn/expected.json.
#
#   tests/autobahn/run.sh            run, then fail on any case whose [behavior, behaviorClose]
#                                    differs from expected.json (or is missing on either side)
#   tests/autobahn/run.sh --update   run, then rewrite expected.json from this run
#
# The server is started with `--listen 127.0.0.1:0 --max-message-size 16777216`; cases 12.* and
# 13.* (permessage-deflate) are excluded and closing-handshake verdicts count (strict close).
# Environment:
#   SERVER_CMD           the server command line, as in tests/clients/harness.py (default: the
#                        release build of the echo example); with `{port}` in it, a free port is
#                        substituted and the harness waits for it instead of reading the address
#   AUTOBAHN_EXPECTED    the expectations file (default tests/autobahn/expected.json)
#   AUTOBAHN_REPORT_DIR  keep the report there (default: a temp dir, removed when the run passes)
#   AUTOBAHN_TIMEOUT     wall-clock limit for wstest in seconds (default 900)
#   AUTOBAHN_TLS=1       the same cases over wss://: the server listens on tls://127.0.0.1:0 with a
#                        certificate made by tests/make-cert.sh, and the verdicts must be the same
#                        expected.json as over plain TCP
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="$ROOT/../shared/autobahn"
EXPECTED="${AUTOBAHN_EXPECTED:-$HERE/expected.json}"
PY="${PYTHON:-python3}"
UPDATE=0
case "${1:-}" in
  --update) UPDATE=1 ;;
  "") ;;
  *) echo "usage: tests/autobahn/run.sh [--update]" >&2; exit 2 ;;
esac

if [ ! -f "$SHARED/run.sh" ]; then
  echo "autobahn: SKIPPED (../shared/autobahn not present)"
  exit 0
fi

if [ -n "${SERVER_CMD:-}" ]; then
  eval "SERVER=($SERVER_CMD)"
else
  TARGET="${CARGO_TARGET_DIR:-target}"
  case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
  SERVER=("$TARGET/release/examples/echo")
  if [ ! -x "${SERVER[0]}" ]; then
    echo "autobahn: ${SERVER[0]#"$ROOT/"} not found: run \`cargo build --release -p switchboard --example echo\` or set SERVER_CMD" >&2
    exit 1
  fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-autobahn.XXXXXX")"
REPORT="${AUTOBAHN_REPORT_DIR:-$WORK/report}"
mkdir -p "$REPORT"
PID=""
KEEP=0
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -KILL -- "-$PID" 2>/dev/null || kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  if [ "$KEEP" = 1 ]; then
    echo "autobahn: report in $REPORT, server output in $WORK"
  elif [ -z "${AUTOBAHN_REPORT_DIR:-}" ]; then
    rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK"; }  # wstest may still be exiting
  fi
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT

server_log() {
  echo "autobahn: server stderr (tail):" >&2
  tail -n 20 "$WORK/server.err" >&2 || true
}

# --- start the server ----------------------------------------------------------------------
FLAGS=(--max-message-size 16777216)
SCHEME=ws
LISTEN=127.0.0.1:0
if [ "${AUTOBAHN_TLS:-0}" = 1 ]; then
  "$ROOT/tests/make-cert.sh" "$WORK/cert.pem" "$WORK/key.pem" ||
    { echo "autobahn: FAIL: openssl could not make a certificate"; exit 1; }
  FLAGS+=(--tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem")
  SCHEME=wss
  LISTEN=tls://127.0.0.1:0
fi
TEMPLATE=0
if [[ "${SERVER[*]}" == *"{port}"* ]]; then
  TEMPLATE=1
  PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  SERVER=("${SERVER[@]//\{port\}/$PORT}")
else
  FLAGS=(--listen "$LISTEN" "${FLAGS[@]}")
fi
# its own process group (setsid), so that the cleanup also ends anything it started
(cd "$ROOT" && exec setsid "${SERVER[@]}" "${FLAGS[@]}" >"$WORK/server.out" 2>"$WORK/server.err") &
PID=$!
ADDR=""
for _ in $(seq 150); do
  if [ "$TEMPLATE" = 1 ]; then
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && ADDR="127.0.0.1:$PORT"
  else
    LINE="$(head -n 1 "$WORK/server.out" 2>/dev/null || true)"
    case "$LINE" in "listening on "*) ADDR="${LINE#listening on }"; ADDR="${ADDR%% *}" ;; esac
  fi
  [ -n "$ADDR" ] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ADDR" ]; then
  echo "autobahn: FAIL: the server did not start (no 'listening on ADDR' line or open port in 15s)"
  server_log
  exit 1
fi
echo "autobahn: server ${SERVER[*]#"$ROOT/"} ${FLAGS[*]} on $ADDR"

# --- run the suite -------------------------------------------------------------------------
set +e
AUTOBAHN_STRICT_CLOSE=1 AUTOBAHN_EXCLUDE="12.*,13.*" AUTOBAHN_TIMEOUT="${AUTOBAHN_TIMEOUT:-900}" \
  AUTOBAHN_AGENT=switchboard "$SHARED/run.sh" "$SCHEME://$ADDR" "*" "$REPORT"
RC=$?
set -e

SERVER_DIED=0
if ! kill -0 "$PID" 2>/dev/null; then
  wait "$PID" && ST=0 || ST=$?
  echo "autobahn: FAIL: the server exited during the run (status $ST)"
  server_log
  SERVER_DIED=1
fi
if [ "$RC" = 2 ] || [ ! -f "$REPORT/index.json" ]; then
  echo "autobahn: FAIL: no report (suite exit status $RC)"
  KEEP=1
  exit 1
fi

# --- compare with / update the expectations ------------------------------------------------
set +e
"$PY" - "$REPORT/index.json" "$EXPECTED" "$UPDATE" "$SERVER_DIED" "$ROOT" <<'PY'
import json, os, sys

index_path, expected_path, root = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[5]
update, server_died = sys.argv[3] == "1", sys.argv[4] == "1"
key = lambda cid: [int(x) for x in cid.split(".")]
index = json.load(open(index_path))
got = {}
for agent, cases in index.items():
    for cid, r in cases.items():
        got[cid] = [r["behavior"], r["behaviorClose"]]
rel = os.path.relpath(expected_path, root) if expected_path.startswith(root + "/") else expected_path

if update:
    if server_died:
        print("autobahn: not updating %s: the server exited during the run" % rel)
        sys.exit(1)
    lines = ['  "%s": %s' % (cid, json.dumps(got[cid])) for cid in sorted(got, key=key)]
    with open(expected_path, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    print("autobahn: wrote %d cases to %s" % (len(got), rel))
    sys.exit(0)

if not os.path.exists(expected_path):
    print("autobahn: FAIL: %s is missing; record it with tests/autobahn/run.sh --update" % rel)
    sys.exit(1)
expected = json.load(open(expected_path))
diffs = []
for cid in sorted(set(expected) | set(got), key=key):
    e, g = expected.get(cid), got.get(cid)
    if e != g:
        diffs.append("  %-10s expected %-28s got %s" % (
            cid, "/".join(e) if e else "(no such case)", "/".join(g) if g else "(not run)"))
if diffs:
    print("autobahn: %d of %d cases differ from %s (behavior/behaviorClose):" % (len(diffs), len(expected), rel))
    print("\n".join(diffs))
    print("autobahn: FAIL (if the new verdicts are right: tests/autobahn/run.sh --update)")
    sys.exit(1)
print("autobahn: all %d cases match %s" % (len(got), rel))
sys.exit(1 if server_died else 0)
PY
CMP=$?
set -e
[ "$CMP" = 0 ] || KEEP=1
exit "$CMP"
