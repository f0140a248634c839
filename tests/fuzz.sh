#!/usr/bin/env bash
# Fuzz pass: schemathesis (PyPI, pinned below) against `/openapi.json` of a running `annals serve`,
# once embedded (SQLite + in-process bus) and once on Postgres + NATS JetStream, with a bounded
# number of examples per operation. Fails on any 5xx (check `not_a_server_error`) and on any
# schemathesis error.
#
#   bash tests/fuzz.sh                      # both backends
#   FUZZ_BACKENDS=embedded bash tests/fuzz.sh
#
# Environment: FUZZ_EXAMPLES (examples per operation, default 30), FUZZ_SEED (reproduce a run),
# FUZZ_CHECKS (comma-separated, default below), FUZZ_BACKENDS (`embedded postgres`), ANNALS_BIN (a
# built binary to use instead of `cargo build`), CARGO_TARGET_DIR (the schemathesis venv is cached
# there, beside the test clients of tests/api/clients.rs), ANNALS_FUZZ_PG (server URL, default
# postgres://postgres@127.0.0.1:5432), NATS_HOST/NATS_PORT (default 127.0.0.1:4222).
#
# Each operation runs in one of three passes: everything but the operations that end the
# caller's session; the operations under `/api/bucket/{id}` again with `id` set to a bucket the
# caller owns (random ids only reach the 404); and last the session-ending ones (`GET
# /auth/logout`, `POST /api/oauth/revoke` without a token revokes the bearer).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${FUZZ_EXAMPLES:-30}"
# not_a_server_error is the point; the others pass today and keep passing. Failing today, not
# enabled: status_code_conformance (401 is undocumented on most authenticated operations),
# positive_data_acceptance (documented constraints looser than the validation), ignored_auth
# (Kitsu answers a malformed JWT with 422, as flask-jwt-extended does), negative_data_rejection.
CHECKS="${FUZZ_CHECKS:-not_a_server_error,content_type_conformance,response_headers_conformance,response_schema_conformance,missing_required_header,unsupported_method,allow_header_conformance,use_after_free,ensure_resource_availability}"
BACKENDS="${FUZZ_BACKENDS:-embedded postgres}"
PG="${ANNALS_FUZZ_PG:-postgres://postgres@127.0.0.1:5432}"
NATS_HOST="${NATS_HOST:-127.0.0.1}"
NATS_PORT="${NATS_PORT:-4222}"
export CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
started=$(date +%s)

# --- schemathesis, installed once per build directory -------------------------------------
venv="$CARGO_TARGET_DIR/test-clients/schemathesis-$SCHEMATHESIS_VERSION"
mkdir -p "$CARGO_TARGET_DIR/test-clients"
(
  flock 9
  if [ ! -e "$venv/.installed" ]; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
    touch "$venv/.installed"
  fi
) 9>"$venv.lock"
st() { "$venv/bin/schemathesis" "$@"; }

# --- the server binary ----------------------------------------------------------------------
if [ -z "${ANNALS_BIN:-}" ]; then
  cargo build --quiet -p annals --bin annals
  ANNALS_BIN="$CARGO_TARGET_DIR/debug/annals"
fi

# --- cleanup --------------------------------------------------------------------------------
work=$(mktemp -d -t annals-fuzz.XXXXXX)
pids=()
databases=()
streams=()

# Deletes a JetStream stream through the NATS protocol itself (no nats CLI needed).
delete_stream() {
  local name=$1
  exec 3<>"/dev/tcp/$NATS_HOST/$NATS_PORT" || return 0
  printf 'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.annals_fuzz 1\r\nPUB $JS.API.STREAM.DELETE.%s _INBOX.annals_fuzz 0\r\n\r\n' "$name" >&3
  timeout 5 grep -a -m1 -q '^MSG' <&3 || echo "deleting stream $name: no answer" >&2
  exec 3<&-
}

cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for db in "${databases[@]}"; do
    psql -q -d "$PG/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  done
  for stream in "${streams[@]}"; do delete_stream "$stream" || true; done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `annals serve` with the given extra environment; sets $base.
start_server() {
  local name=$1
  shift
  local port
  port=$(free_port)
  mkdir -p "$work/$name"
  env -u DATABASE_URL -u NATS_URL \
    ANNALS_BIND="127.0.0.1:$port" \
    ANNALS_DATA_DIR="$work/$name/data" \
    ANNALS_LOG_FORMAT=json \
    ANNALS_LOGIN_RATE_PER_MINUTE=100000 \
    ANNALS_MAX_OWNED_BUCKETS=1000 \
    "$@" "$ANNALS_BIN" serve >"$work/$name/server.log" 2>&1 &
  pids+=($!)
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if curl -sf -o /dev/null "$base/healthz"; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "annals ($name) did not start:" >&2
  tail -20 "$work/$name/server.log" >&2
  return 1
}

json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

failed=()
passes=0

# True once /readyz reports nothing pending for the relay, the projections and the reactors.
caught_up() {
  for _ in $(seq 1 60); do
    if curl -s "$base/readyz" | python3 -c '
import json, sys
ready = json.load(sys.stdin)
parts = [ready.get("relay") or {}] + ready.get("projections", []) + ready.get("reactors", [])
sys.exit(0 if all(p.get("pending_events", 0) == 0 for p in parts) else 1)'; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

# Runs one schemathesis pass; records a failure instead of stopping, so every pass reports.
pass() {
  local label=$1
  shift
  echo "=== $label"
  passes=$((passes + 1))
  local seed=() config=()
  [ -n "${FUZZ_SEED:-}" ] && seed=(--seed "$FUZZ_SEED")
  [ -n "${pass_config:-}" ] && config=(--config-file "$pass_config")
  if ! (cd "$work" && st "${config[@]}" run "$base/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$CHECKS" \
    --max-examples "$EXAMPLES" \
    --workers 2 \
    --generation-database none \
    --no-color \
    --warnings off \
    --request-timeout 30 \
    "${seed[@]}" "$@"); then
    failed+=("$label")
  fi
}

fuzz_backend() {
  local name=$1
  shift
  start_server "$name" "$@"
  echo "annals ($name) on $base"
  local email="fuzz-$name@example.com" password="a-strong-and-secure-fuzz-password"
  curl -sf -o /dev/null "$base/core/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"firstName\":\"Fuzz\",\"lastName\":\"Tester\",\"password\":\"$password\"}"
  token=$(curl -sf "$base/core/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field access)
  local bucket
  bucket=$(curl -sf "$base/api/bucket/create_classic" -H "Authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"name":"fuzz"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["bucket"]["_id"])')

  pass "$name: all operations but logout and revoke" \
    --exclude-path /auth/logout --exclude-path /api/oauth/revoke
  printf '[parameters]\n"path.id" = "%s"\n' "$bucket" >"$work/$name/bucket.toml"
  pass_config="$work/$name/bucket.toml" pass "$name: /api/bucket/{id} operations on the caller's bucket" \
    --include-path-regex '^/api/bucket/\{id\}' --exclude-method DELETE
  pass "$name: session-ending operations" \
    --include-path /auth/logout --include-path /api/oauth/revoke

  # Everything accepted must stay readable: the relay, projections and reactors catch up with
  # the log (an event they cannot read stalls them, and every later read waits for them).
  passes=$((passes + 1))
  if ! caught_up; then
    echo "annals ($name): the read side did not catch up with the log after the fuzz:" >&2
    curl -s "$base/readyz" >&2
    echo >&2
    grep -a '"level":"WARN"' "$work/$name/server.log" | tail -5 >&2
    failed+=("$name: the read side did not catch up with the log")
  fi
  if grep -a -q '"level":"ERROR"' "$work/$name/server.log"; then
    echo "--- errors logged by annals ($name):"
    grep -a '"level":"ERROR"' "$work/$name/server.log" | tail -20
  fi
}

for backend in $BACKENDS; do
  case "$backend" in
    embedded)
      fuzz_backend embedded
      ;;
    postgres)
      suffix="$(date +%s)_$$"
      db="annals_fuzz_$suffix"
      stream="ANNALS_FUZZ_$suffix"
      psql -q -d "$PG/postgres" -c "CREATE DATABASE $db"
      databases+=("$db")
      streams+=("$stream")
      fuzz_backend postgres \
        DATABASE_URL="$PG/$db" \
        NATS_URL="nats://$NATS_HOST:$NATS_PORT" \
        ANNALS_NATS_STREAM="$stream" \
        ANNALS_NATS_SUBJECT_PREFIX="annals_fuzz_$suffix.events"
      ;;
    *)
      echo "unknown backend $backend (embedded, postgres)" >&2
      exit 2
      ;;
  esac
done

echo "fuzz: $(($(date +%s) - started)) s, $EXAMPLES examples per operation, checks $CHECKS"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz failed: %s\n' "${failed[@]}" >&2
fi
echo "fuzz: $((passes - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
