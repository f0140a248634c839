#!/usr/bin/env bash
# The production tracker (Kitsu/Zou API) under load: starts a release `annals serve` on a fresh
# database and JetStream stream (Postgres + NATS) and runs `annals-bench tracker` against it. With
# --zou it also sets up the real Zou 1.0.97 from PyPI (a virtual environment kept in
# ZOU_VENV, its own fresh Postgres database, Redis on 127.0.0.1:6379, gunicorn with one worker per
# core; it empties Redis database 1, Zou's memoization cache) and runs the same seed and load there: bench/results/tracker.md gets both and the ratios.
#
#   bench/tracker.sh [--zou] [annals-bench tracker options]   e.g. --duration 5
#   BENCH_NO_BUILD=1 reuses the release binaries. ANNALS_KEPT_ANSWERS=0 measures annals with every
#   answer computed afresh (by default repeated reads are served from kept answers).
#   Both servers reach Postgres over loopback without TLS (PGSSLMODE=disable, honoured by sqlx and
#   by Zou's libpq): encrypting loopback traffic would only measure the cipher.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
export PGSSLMODE="${PGSSLMODE:-disable}"
kept="${ANNALS_KEPT_ANSWERS:-512}"
zou=0
if [[ "${1:-}" == "--zou" ]]; then zou=1; shift; fi
[[ "${BENCH_NO_BUILD:-0}" == 1 ]] || cargo build --release -p annals -p annals-bench >&2
bin="$CARGO_TARGET_DIR/release"
email="admin@example.com"
password="bench-admin-password"

stamp="$(date -u +%Y%m%d%H%M%S)_$$"
db="annals_trbench_${stamp}"
zou_db="zou_trbench_${stamp}"
stream="ANNALS_TRBENCH_${stamp}"
work="$(mktemp -d -t annals-trbench.XXXXXX)"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if [[ -f "$work/gunicorn.pid" ]]; then kill "$(cat "$work/gunicorn.pid")" 2>/dev/null || true; fi
  if [[ $status -ne 0 ]]; then tail -n 20 "$work"/*.log >&2 2>/dev/null || true; fi
  psql -qX -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  psql -qX -d postgres -c "DROP DATABASE IF EXISTS \"$zou_db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# A free port: bind to 0 and let the kernel choose.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # url pid
  for _ in $(seq 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "the server behind $1 exited" >&2; return 1; }
    sleep 0.2
  done
  echo "$1 did not answer" >&2; return 1
}

port="$(free_port)"
psql -qX -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
env ANNALS_BIND="127.0.0.1:$port" ANNALS_DATA_DIR="$work/annals" RUST_LOG=warn \
  ANNALS_LOGIN_RATE_PER_MINUTE=1000000 ANNALS_KEPT_ANSWERS="$kept" ANNALS_ADMIN_EMAIL="$email" ANNALS_ADMIN_PASSWORD="$password" \
  DATABASE_URL="postgres://${PGUSER}@${PGHOST}:${PGPORT}/${db}" NATS_URL="$NATS_URL" \
  ANNALS_NATS_STREAM="$stream" ANNALS_NATS_SUBJECT_PREFIX="annalstrbench_${stamp}.events" \
  "$bin/annals" serve >"$work/annals.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$port/readyz" "${pids[-1]}"
targets=(--target "annals=http://127.0.0.1:$port")

if [[ $zou == 1 ]]; then
  venv="${ZOU_VENV:-$HOME/.cache/annals/zou-1.0.97}"
  if [[ ! -x "$venv/bin/zou" ]]; then
    echo "installing Zou 1.0.97 into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q zou==1.0.97 >&2
  fi
  psql -qX -d postgres -c "DO \$\$ BEGIN CREATE USER zou WITH PASSWORD 'zoupw' SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" >/dev/null
  psql -qX -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$zou_db\" OWNER zou" >/dev/null
  mkdir -p "$work/previews" "$work/tmp"
  export DB_USERNAME=zou DB_PASSWORD=zoupw DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_DATABASE="$zou_db" \
    SECRET_KEY="annals-bench-zou-secret-key-0123456789" PREVIEW_FOLDER="$work/previews" \
    TMP_DIR="$work/tmp" MAIL_CHECK_DELIVERABILITY=false
  unset INDEXER_KEY
  "$venv/bin/zou" init-db >"$work/zou-init.log" 2>&1
  "$venv/bin/zou" init-data >>"$work/zou-init.log" 2>&1
  "$venv/bin/zou" create-admin "$email" --password "$password" >>"$work/zou-init.log" 2>&1
  # Zou memoizes lookups (the id of the "Episode" entity type, say) in Redis database 1, which
  # outlives its Postgres database: ids of an earlier run's database would break this one.
  redis-cli -h 127.0.0.1 -n 1 FLUSHDB >/dev/null
  zou_port="$(free_port)"
  "$venv/bin/gunicorn" -w "$(nproc)" -b "127.0.0.1:$zou_port" --pid "$work/gunicorn.pid" \
    zou.app:app >"$work/zou.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$zou_port/" "${pids[-1]}"
  targets+=(--target "zou=http://127.0.0.1:$zou_port")
fi

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
label="annals $commit (release build, Postgres + NATS, kept answers: $kept), $(nproc) cores, Postgres over loopback with sslmode=$PGSSLMODE"
[[ $zou == 1 ]] && label="$label; Zou 1.0.97 (gunicorn, $(nproc) workers, Postgres, Redis)"
"$bin/annals-bench" tracker "${targets[@]}" --email "$email" --password "$password" \
  --label "$label" "$@"
