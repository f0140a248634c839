#!/usr/bin/env bash
# One benchmark run: build, start `annals serve` on a fresh database and a fresh JetStream
# stream, run annals-bench against it, clean up. Arguments go to annals-bench (e.g. --quick,
# --rate 500). Results: stdout and bench/results/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"

# BENCH_NO_BUILD=1 reuses the binaries already built.
[[ "${BENCH_NO_BUILD:-0}" == 1 ]] || cargo build --release -p annals -p annals-bench
bin="$CARGO_TARGET_DIR/release"

stamp="$(date -u +%Y%m%d%H%M%S)_$$"
db="annals_bench_${stamp}"
stream="ANNALS_BENCH_${stamp}"
prefix="annalsbench_${stamp}.events"
data_dir="$(mktemp -d -t annals-bench.XXXXXX)"
server_pid=""

# Deletes the run's JetStream stream with a plain NATS protocol request (no client needed).
delete_stream() {
  local hostport="${NATS_URL#nats://}"
  hostport="${hostport%%/*}"
  exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || return 0
  printf 'CONNECT {"verbose":false}\r\nSUB _INBOX.annalsbench 1\r\nPUB $JS.API.STREAM.DELETE.%s _INBOX.annalsbench 0\r\n\r\n' "$stream" >&3
  timeout 3 grep -a -m1 -o '"success":true' <&3 >/dev/null || echo "note: stream $stream not deleted" >&2
  exec 3>&-
}

cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f "$data_dir/server.log" ]]; then
    echo "--- last server log lines ---" >&2
    tail -n 20 "$data_dir/server.log" >&2 || true
  fi
  psql -qX -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || echo "note: database $db not dropped" >&2
  delete_stream 2>/dev/null || true
  rm -rf "$data_dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nobody listens on.
port=""
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port=$candidate
    break
  fi
done
[[ -n "$port" ]] || { echo "no free port found" >&2; exit 1; }

psql -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
database_url="postgres://${PGUSER}@${PGHOST}:${PGPORT}/${db}"

DATABASE_URL="$database_url" NATS_URL="$NATS_URL" ANNALS_BIND="127.0.0.1:$port" \
  ANNALS_DATA_DIR="$data_dir" ANNALS_NATS_STREAM="$stream" ANNALS_NATS_SUBJECT_PREFIX="$prefix" \
  ANNALS_LOG_FORMAT=json RUST_LOG=warn ANNALS_LOGIN_RATE_PER_MINUTE=1000000 \
  "$bin/annals" serve >"$data_dir/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { echo "annals serve exited" >&2; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || { echo "annals serve not ready after 60 s" >&2; exit 1; }

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"

"$bin/annals-bench" --base-url "http://127.0.0.1:$port" --database-url "$database_url" \
  --nats-url "$NATS_URL" --label "annals $commit (release build)" --out bench/results/latest.md "$@"

errors="$(grep -c '"level":"ERROR"' "$data_dir/server.log" || true)"
if [[ "$errors" != 0 ]]; then
  echo "note: the server logged $errors errors; the first ones:" >&2
  grep '"level":"ERROR"' "$data_dir/server.log" | head -n 3 >&2
fi
