#!/usr/bin/env bash
# The document service (DataCube API) under load, on Postgres + NATS: starts a release
# `annals serve` on a fresh database and JetStream stream, runs `annals-bench datacube`
# (an import of DOCS documents of ~1 KB against a COPY of the same rows, the time until they are
# queryable, the server's peak memory, single inserts and a filtered query at 32 clients), and
# writes bench/results/datacube.md.
#
#   bench/datacube.sh [annals-bench datacube options]   e.g. --docs 20000 --duration 5
#   BENCH_NO_BUILD=1 reuses the release binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
# Loopback without TLS for the server and the COPY reference alike (sqlx honours PGSSLMODE).
export PGSSLMODE="${PGSSLMODE:-disable}"
[[ "${BENCH_NO_BUILD:-0}" == 1 ]] || cargo build --release -p annals -p annals-bench >&2
bin="$CARGO_TARGET_DIR/release"

stamp="$(date -u +%Y%m%d%H%M%S)_$$"
db="annals_dcbench_${stamp}"
stream="ANNALS_DCBENCH_${stamp}"
data_dir="$(mktemp -d -t annals-dcbench.XXXXXX)"
server_pid=""
cleanup() {
  local status=$?
  [[ -n "$server_pid" ]] && { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; }
  if [[ $status -ne 0 && -f "$data_dir/server.log" ]]; then tail -n 20 "$data_dir/server.log" >&2; fi
  psql -qX -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$data_dir"
  exit "$status"
}
trap cleanup EXIT

# A port the kernel says is free (a random one may be a test server's).
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
psql -qX -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
database_url="postgres://${PGUSER}@${PGHOST}:${PGPORT}/${db}"
env ANNALS_BIND="127.0.0.1:$port" ANNALS_DATA_DIR="$data_dir" RUST_LOG=warn \
  ANNALS_LOGIN_RATE_PER_MINUTE=1000000 DATABASE_URL="$database_url" NATS_URL="$NATS_URL" \
  ANNALS_NATS_STREAM="$stream" ANNALS_NATS_SUBJECT_PREFIX="annalsdcbench_${stamp}.events" \
  "$bin/annals" serve >"$data_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { echo "annals serve exited" >&2; exit 1; }
  sleep 0.2
done

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
"$bin/annals-bench" datacube --base-url "http://127.0.0.1:$port" --database-url "$database_url" \
  --server-pid "$server_pid" --label "annals $commit (release build), $(nproc) cores" "$@"
