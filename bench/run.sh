#!/usr/bin/env bash
# One benchmark run: build, start `annals serve` on a fresh store, run annals-bench against it,
# time cold starts and warm restarts (annals-bench startup), clean up.
#
#   bench/run.sh [--postgres] [args]   Postgres + NATS JetStream  → bench/results/postgres.md
#   bench/run.sh --embedded [args]     SQLite file + in-process bus → bench/results/embedded.md
#   bench/run.sh --all [args]          both, then bench/results/latest.md = both reports
#
# BENCH_MODE=embedded|postgres|all does the same as the flags. Other arguments go to
# annals-bench (e.g. --quick, --rate 500); --quick also shortens the start timings.
# BENCH_NO_BUILD=1 reuses the release binaries already built; BENCH_STARTS=<n> sets the number
# of cold starts and of warm restarts (default 5; 3 with --quick; 0 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"

mode="${BENCH_MODE:-postgres}"
pass=()
quick=0
user_out=""
previous=""
for arg in "$@"; do
  case "$arg" in
    --embedded) mode=embedded ;;
    --postgres) mode=postgres ;;
    --all) mode=all ;;
    *)
      [[ "$arg" == --quick ]] && quick=1
      [[ "$arg" == --out=* ]] && user_out="${arg#--out=}"
      [[ "$previous" == --out ]] && user_out="$arg"
      pass+=("$arg")
      ;;
  esac
  previous="$arg"
done
case "$mode" in
  embedded | postgres | all) ;;
  *) echo "BENCH_MODE must be embedded, postgres or all (got '$mode')" >&2; exit 2 ;;
esac

# BENCH_NO_BUILD=1 reuses the binaries already built.
[[ "${BENCH_NO_BUILD:-0}" == 1 ]] || cargo build --release -p annals -p annals-bench
bin="$CARGO_TARGET_DIR/release"
results="bench/results"

if [[ "$mode" == all ]]; then
  # Each mode in its own process (own cleanup), built once.
  failed=0
  for m in postgres embedded; do
    echo "=== $m ===" >&2
    BENCH_NO_BUILD=1 BENCH_MODE="$m" bash "$0" "${pass[@]}" || { failed=1; echo "$m run failed" >&2; }
  done
  if [[ $failed == 0 ]]; then
    {
      echo "<!-- bench/run.sh --all: $results/postgres.md followed by $results/embedded.md -->"
      echo
      cat "$results/postgres.md"
      echo
      echo "---"
      echo
      cat "$results/embedded.md"
    } >"$results/latest.md"
    echo "written to $results/latest.md" >&2
  fi
  exit $failed
fi

stamp="$(date -u +%Y%m%d%H%M%S)_$$"
db="annals_bench_${stamp}"
stream="ANNALS_BENCH_${stamp}"
prefix="annalsbench_${stamp}.events"
# The server's data dir (embedded: its SQLite file), and scratch space for the raw SQLite
# reference and the cold starts; both under TMPDIR (never put them on tmpfs: the header
# records the filesystem).
data_dir="$(mktemp -d -t annals-bench.XXXXXX)"
scratch_dir="$(mktemp -d -t annals-bench-scratch.XXXXXX)"
out="${user_out:-$results/$mode.md}"
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

stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

cleanup() {
  local status=$?
  stop_server
  if [[ $status -ne 0 && -f "$data_dir/server.log" ]]; then
    echo "--- last server log lines ---" >&2
    tail -n 20 "$data_dir/server.log" >&2 || true
  fi
  if [[ "$mode" == postgres ]]; then
    psql -qX -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || echo "note: database $db not dropped" >&2
    delete_stream 2>/dev/null || true
  fi
  rm -rf "$data_dir" "$scratch_dir"
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

common_env=(ANNALS_BIND="127.0.0.1:$port" ANNALS_DATA_DIR="$data_dir" ANNALS_LOG_FORMAT=json
  RUST_LOG=warn ANNALS_LOGIN_RATE_PER_MINUTE=1000000)
if [[ "$mode" == postgres ]]; then
  psql -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
  database_url="postgres://${PGUSER}@${PGHOST}:${PGPORT}/${db}"
  env "${common_env[@]}" DATABASE_URL="$database_url" NATS_URL="$NATS_URL" \
    ANNALS_NATS_STREAM="$stream" ANNALS_NATS_SUBJECT_PREFIX="$prefix" \
    "$bin/annals" serve >"$data_dir/server.log" 2>&1 &
else
  # Embedded: no DATABASE_URL and no NATS_URL, whatever the caller's environment holds.
  database_url="sqlite://$data_dir/annals.db"
  env -u DATABASE_URL -u NATS_URL "${common_env[@]}" \
    "$bin/annals" serve >"$data_dir/server.log" 2>&1 &
fi
server_pid=$!

for _ in $(seq 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { echo "annals serve exited" >&2; exit 1; }
  sleep 0.2
done
ready="$(curl -fsS "http://127.0.0.1:$port/readyz")" || { echo "annals serve not ready after 60 s" >&2; exit 1; }
expected_storage=postgres
[[ "$mode" == embedded ]] && expected_storage=sqlite
grep -q "\"storage\":\"$expected_storage\"" <<<"$ready" || {
  echo "the server does not report storage $expected_storage: $ready" >&2
  exit 1
}

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"

"$bin/annals-bench" --base-url "http://127.0.0.1:$port" --database-url "$database_url" \
  --raw-database-url "sqlite://$scratch_dir/raw.db" --nats-url "$NATS_URL" \
  --label "annals $commit (release build)" --out "$out" "${pass[@]}"
rm -f "$scratch_dir"/raw.db*

errors="$(grep -c '"level":"ERROR"' "$data_dir/server.log" || true)"
if [[ "$errors" != 0 ]]; then
  echo "note: the server logged $errors errors; the first ones:" >&2
  grep '"level":"ERROR"' "$data_dir/server.log" | head -n 3 >&2
fi

# Start to ready: the benchmark's server stopped (SIGTERM), then cold starts on empty stores
# and warm restarts on the benchmark's data.
stop_server
starts="${BENCH_STARTS:-5}"
[[ $quick == 1 && -z "${BENCH_STARTS:-}" ]] && starts=3
if [[ "$starts" != 0 ]]; then
  startup=(--annals "$bin/annals" --mode "$mode" --cold "$starts" --warm "$starts"
    --warm-data-dir "$data_dir" --scratch "$scratch_dir" --out "$out")
  if [[ "$mode" == postgres ]]; then
    startup+=(--database-url "$database_url" --nats-url "$NATS_URL" --nats-stream "$stream"
      --nats-subject-prefix "$prefix")
  fi
  "$bin/annals-bench" startup "${startup[@]}"
fi
