#!/usr/bin/env bash
# Publishing from PHP-FPM, measured (docs/benchmarks.md, "Publishing from PHP-FPM"):
#
#   bench/fpm-publish.sh [REQUESTS]        (default 2000; or REQUESTS=N in the environment)
#
# Starts the operator (with the HTTP endpoint), one PHP worker that subscribes every
# connection to "news", `switchboard-bench subscribers` with 1,000 connections, php-fpm8.2
# (a static pool of 8 children with the extension) behind nginx, then runs
# `ab -c 8 -n REQUESTS` twice:
#   1. against a PHP page doing 10 `$client->publish('news', ...)` (bench/fpm/publish.php);
#   2. against the operator's `POST /publish` with a batch of 10 publishes, through the
#      same nginx, so that both paths take the same route.
# Each subscriber must get REQUESTS x 10 messages. Prints requests/s, publishes/s and the
# subscribers' deliveries/s, then a table of both. Everything runs on 127.0.0.1.
#
# Needs the release binaries (it builds nothing):
#   cargo build --release -p switchboard-operator -p switchboard-php -p switchboard-bench
# and installs nginx and apache2-utils (ab) with apt-get when missing (as root).
# Environment: REQUESTS, CONCURRENCY (8), SUBSCRIBERS (1000), CARGO_TARGET_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OPERATOR="$TARGET/release/switchboard"
BENCH="$TARGET/release/switchboard-bench"
EXT="$TARGET/release/libswitchboard_php.so"
REQUESTS="${1:-${REQUESTS:-2000}}"
CONCURRENCY="${CONCURRENCY:-8}"
SUBSCRIBERS="${SUBSCRIBERS:-1000}"
FPM="${PHP_FPM:-php-fpm8.2}"
KEY="bench-$$-$RANDOM"
PUBLISHES=10 # per request: the page's loop and the HTTP batch
EXPECT=$((REQUESTS * PUBLISHES))

say() { echo "fpm-publish: $*"; }
die() {
  echo "fpm-publish: $*" >&2
  exit 1
}

# --- what it needs ------------------------------------------------------------------------
case "$REQUESTS" in '' | *[!0-9]*) die "REQUESTS must be a number, not '$REQUESTS'" ;; esac
for bin in "$OPERATOR" "$BENCH" "$EXT"; do
  [ -e "$bin" ] || die "$bin is missing: run
  cargo build --release -p switchboard-operator -p switchboard-php -p switchboard-bench"
done
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v ab >/dev/null || missing+=(apache2-utils)
command -v "$FPM" >/dev/null || missing+=(php8.2-fpm)
command -v php >/dev/null || missing+=(php8.2-cli)
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing: ${missing[*]} (apt-get install ${missing[*]}, as root)"
  say "installing ${missing[*]} with apt-get (this script runs its own nginx; a system service, if one starts, is left alone)"
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

# --- processes, all stopped on exit -------------------------------------------------------
DIR="$(mktemp -d)"
chmod 755 "$DIR" # nginx's workers (nobody when started by root) reach the FPM socket here
pids=()
stop_all() {
  local pid i
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for i in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_all
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (at most $3 seconds) for a line matching $2 in file $1; prints it.
await_line() {
  local i line
  for i in $(seq $(($3 * 10))); do
    line="$(grep -m1 -E "$2" "$1" 2>/dev/null || true)"
    if [ -n "$line" ]; then
      echo "$line"
      return 0
    fi
    sleep 0.1
  done
  echo "fpm-publish: no '$2' in $1 after $3 s:" >&2
  cat "$1" >&2 || true
  return 1
}

free_port() {
  php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];'
}

# One figure of ab's output: ab_figure FILE LABEL.
ab_figure() { sed -n "s/^$2: *\([0-9.]*\).*/\1/p" "$1" | head -1; }

# One figure from a JSON figures line: figure FILE KEY.
figure() {
  tail -1 "$1" | grep -oE "\"$2\":[0-9.eE+-]+" | cut -d: -f2 || true
}

# --- the operator, its worker -------------------------------------------------------------
ulimit -n 65536 2>/dev/null || true
"$OPERATOR" --listen 127.0.0.1:0 --control "unix:$DIR/ctl.sock" \
  --http-publish 127.0.0.1:0 --http-key "$KEY" >"$DIR/operator.out" 2>&1 &
OPERATOR_PID=$!
pids+=("$OPERATOR_PID")
WS_ADDR="$(await_line "$DIR/operator.out" '^listening on ' 10 | cut -d' ' -f3)"
HTTP_ADDR="$(await_line "$DIR/operator.out" '^http publish on ' 10 | cut -d' ' -f4)"
php -d "extension=$EXT" "$ROOT/bench/fpm/worker.php" "unix:$DIR/ctl.sock" >"$DIR/worker.out" 2>&1 &
pids+=($!)
await_line "$DIR/worker.out" '^attached$' 10 >/dev/null

# --- php-fpm and nginx --------------------------------------------------------------------
cat >"$DIR/fpm.conf" <<EOF
[global]
error_log = $DIR/fpm.log
daemonize = no
[bench]
listen = $DIR/fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 8
catch_workers_output = yes
php_admin_value[extension] = $EXT
php_admin_value[error_log] = $DIR/php.log
EOF
root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(-R)
"$FPM" -F -y "$DIR/fpm.conf" "${root_flag[@]}" >"$DIR/fpm.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ -S "$DIR/fpm.sock" ] && break
  sleep 0.1
done
[ -S "$DIR/fpm.sock" ] || die "php-fpm did not start: $(cat "$DIR/fpm.out" "$DIR/fpm.log" 2>/dev/null)"
opcache="off"
modules="$("$FPM" -m 2>/dev/null || true)"
grep -qi '^zend opcache' <<<"$modules" && opcache="on"

NGINX_PORT="$(free_port)"
mkdir -p "$DIR/nginx"
cat >"$DIR/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx/body;
  fastcgi_temp_path $DIR/nginx/fastcgi;
  proxy_temp_path $DIR/nginx/proxy;
  uwsgi_temp_path $DIR/nginx/uwsgi;
  scgi_temp_path $DIR/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /publish.php {
      fastcgi_param REQUEST_METHOD \$request_method;
      fastcgi_param QUERY_STRING \$query_string;
      fastcgi_param SCRIPT_FILENAME $ROOT/bench/fpm/publish.php;
      fastcgi_param SWITCHBOARD_CONTROL unix:$DIR/ctl.sock;
      fastcgi_pass unix:$DIR/fpm.sock;
    }
    # The same route as the page's: nginx passes the requests on as HTTP/1.1 (one
    # connection each, as ab's own).
    location = /publish {
      proxy_pass http://$HTTP_ADDR;
      proxy_http_version 1.1;
    }
  }
}
EOF
"$NGINX" -p "$DIR/nginx" -e "$DIR/nginx-error.log" -c "$DIR/nginx.conf" >"$DIR/nginx.out" 2>&1 &
pids+=($!)
ok=""
for _ in $(seq 100); do
  if answer="$(php -r 'echo @file_get_contents($argv[1]);' "http://127.0.0.1:$NGINX_PORT/publish.php")" &&
    [ "$answer" = "ok" ]; then
    ok=1
    break
  fi
  sleep 0.1
done
[ -n "$ok" ] || die "nginx + php-fpm did not answer 'ok': ${answer:-} $(cat "$DIR/nginx-error.log" "$DIR/php.log" 2>/dev/null)"

say "operator ws://$WS_ADDR, http://$HTTP_ADDR/publish; nginx on 127.0.0.1:$NGINX_PORT: /publish.php to php-fpm (8 children, opcache $opcache), /publish to the operator"
say "$REQUESTS requests x $PUBLISHES publishes, ab -c $CONCURRENCY, $SUBSCRIBERS subscribers each expecting $EXPECT messages"

# --- one measurement: subscribers open, ab loads, subscribers count -----------------------
# measure NAME AB_ARGS...: leaves its figures in $DIR/NAME.ab and $DIR/NAME.subs.
measure() {
  local name="$1" subs_pid n i rc=0
  local rps failed non2xx took deliveries dps low high window errors cpu
  shift
  timeout 600 "$BENCH" subscribers --url "ws://$WS_ADDR/news" --connections "$SUBSCRIBERS" \
    --pid "$OPERATOR_PID" --expect "$EXPECT" --until-quiet 2 --duration 580 >"$DIR/$name.subs" 2>&1 &
  subs_pid=$!
  pids+=("$subs_pid")
  n="$(await_line "$DIR/$name.subs" '^subscribed ' 60 | cut -d' ' -f2)"
  [ "$n" = "$SUBSCRIBERS" ] || say "$name: only $n of $SUBSCRIBERS subscribers opened"
  sleep 1 # the worker's subscribe commands follow the opens
  timeout 600 ab -q -c "$CONCURRENCY" -n "$REQUESTS" "$@" >"$DIR/$name.ab" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || say "$name: ab exited $rc: $(tail -3 "$DIR/$name.ab")"
  # The subscribers stop after 2 s of silence; give the last deliveries a minute.
  for i in $(seq 600); do
    kill -0 "$subs_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$subs_pid" 2>/dev/null || true
  wait "$subs_pid" || say "$name: the subscribers report errors: $(grep 'first error' "$DIR/$name.subs" || true)"
  local keep=() pid
  for pid in "${pids[@]}"; do [ "$pid" = "$subs_pid" ] || keep+=("$pid"); done
  pids=("${keep[@]}")
  rps="$(ab_figure "$DIR/$name.ab" 'Requests per second')"
  took="$(ab_figure "$DIR/$name.ab" 'Time taken for tests')"
  failed="$(ab_figure "$DIR/$name.ab" 'Failed requests')"
  non2xx="$(ab_figure "$DIR/$name.ab" 'Non-2xx responses')"
  deliveries="$(figure "$DIR/$name.subs" deliveries)"
  dps="$(figure "$DIR/$name.subs" deliveries_per_s)"
  low="$(figure "$DIR/$name.subs" min_per_conn)"
  high="$(figure "$DIR/$name.subs" max_per_conn)"
  window="$(figure "$DIR/$name.subs" window_s)"
  errors="$(figure "$DIR/$name.subs" errors)"
  cpu="$(figure "$DIR/$name.subs" server_cpu_s)"
  printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$name" "${rps:-?}" "${took:-?}" "${failed:-?}" \
    "${non2xx:-0}" "${deliveries:-?}" "${dps:-?}" "${low:-?}" "${high:-?}" "${window:-?}" \
    "${errors:-?}" "${cpu:-?}" >>"$DIR/results"
  say "$name: ${rps:-?} requests/s ($(awk -v r="${rps:-0}" -v p=$PUBLISHES 'BEGIN { printf "%.0f", r * p }') publishes/s) in ${took:-?} s; failed ${failed:-?}, non-2xx ${non2xx:-0}"
  say "$name: subscribers got ${deliveries:-?} messages, ${dps:-?}/s over ${window:-?} s; per connection ${low:-?}..${high:-?} of $EXPECT; errors ${errors:-?}; operator CPU ${cpu:-?} s"
}

printf '[' >"$DIR/body.json"
for i in $(seq 0 $((PUBLISHES - 1))); do
  [ "$i" -gt 0 ] && printf ',' >>"$DIR/body.json"
  printf '{"topic":"news","data":"{\\"seq\\":%d,\\"pid\\":0,\\"at\\":1700000000.123456}"}' "$i" >>"$DIR/body.json"
done
printf ']' >>"$DIR/body.json"

measure php-fpm "http://127.0.0.1:$NGINX_PORT/publish.php"
measure http-endpoint -p "$DIR/body.json" -T application/json -H "Authorization: Bearer $KEY" \
  "http://127.0.0.1:$NGINX_PORT/publish"

stats="$(php -d "extension=$EXT" -r '$s = (new Switchboard\Client($argv[1]))->stats();
  foreach (["messages_out", "dropped", "closed_by_slow_consumer", "control_quiet_failures"] as $k) echo "$k=", $s[$k] ?? "?", " ";' \
  "unix:$DIR/ctl.sock" || true)"
say "operator stats: $stats"

# --- the table ----------------------------------------------------------------------------
echo
printf '%-14s %11s %12s %14s %18s %8s %7s %14s\n' path requests/s publishes/s deliveries/s \
  "per subscriber" failed errors "operator CPU-s"
while IFS='|' read -r name rps took failed non2xx deliveries dps low high window errors cpu; do
  [[ "$rps" =~ ^[0-9.]+$ ]] || rps=0
  [[ "$dps" =~ ^[0-9.]+$ ]] || dps=0
  [[ "$failed" =~ ^[0-9]+$ ]] || failed=0
  range="$low"
  [ "$low" = "$high" ] || range="$low..$high"
  printf '%-14s %11.0f %12.0f %14.0f %18s %8s %7s %14s\n' "$name" "$rps" \
    "$(awk -v r="$rps" -v p=$PUBLISHES 'BEGIN { print r * p }')" "$dps" \
    "$range/$EXPECT" "$((failed + non2xx))" "$errors" "$cpu"
done <"$DIR/results"
bad="$(awk -F'|' -v want="$EXPECT" '$4 + $5 > 0 || $8 != want || $9 != want || $11 != 0' "$DIR/results")"
[ -z "$bad" ] || die "a run lost requests or messages (see above)"
