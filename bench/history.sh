#!/usr/bin/env bash
# How fast auditors read the history: `GET /api/history/events?limit=10000` on a Postgres log of
# EVENTS events (default 20,000: user registrations with a password hash to redact, spread over
# streams of 4), next to a reference measured in the same run: Postgres alone sending the same
# 10,000 rows as JSON to psql. Also `annals replay` of the whole log.
#
#   bench/history.sh            builds the release binary (BENCH_NO_BUILD=1 reuses it;
#                               ANNALS_BIN=<path> BENCH_NO_BUILD=1 measures another build)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
EVENTS="${EVENTS:-20000}"
RUNS="${RUNS:-5}"
[[ "${BENCH_NO_BUILD:-}" == 1 ]] || cargo build --release -p annals >&2
bin="${ANNALS_BIN:-$CARGO_TARGET_DIR/release/annals}"
db="annals_history_bench_$$"
dir="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db" ANNALS_DATA_DIR="$dir" RUST_LOG=error
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
psql -q -d postgres -c "CREATE DATABASE $db" >/dev/null
"$bin" migrate >/dev/null
psql -q -d "$db" -c "
  INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
  SELECT 'user', 'u' || (n / 4), n % 4 + 1, 'UserRegistered', '1.0',
         jsonb_build_object('UserRegistered', jsonb_build_object(
           'user_id', 'u' || (n / 4), 'email', 'user' || n || '@example.com', 'first_name', 'Ada',
           'last_name', 'Lovelace', 'role', 'user', 'password_hash', repeat('x', 97),
           'at', now())),
         jsonb_build_object('actor', 'u' || (n / 4), 'request_id', gen_random_uuid()::text)
    FROM generate_series(0, $EVENTS - 1) n;
  ANALYZE events;"
"$bin" admin create-user --email audit@example.com --password 'a-strong-and-secure-password' --role auditor >/dev/null
ANNALS_BIND="127.0.0.1:$port" "$bin" serve &
server=$!
for _ in $(seq 100); do curl -fs "localhost:$port/healthz" >/dev/null && break; sleep 0.1; done
token=$(curl -fs "localhost:$port/core/login" -d '{"email":"audit@example.com","password":"a-strong-and-secure-password"}' | jq -r .access)

ms() { echo "$(( ($2 - $1) / 1000000 ))"; }
page_times=() ref_times=()
for _ in $(seq "$RUNS"); do
  t0=$(date +%s%N)
  curl -fs -o "$dir/page.json" -H "Authorization: Bearer $token" "localhost:$port/api/history/events?limit=10000"
  t1=$(date +%s%N)
  n=$(jq '.events | length' "$dir/page.json")
  [[ "$n" == 10000 ]] || { echo "a page held $n events" >&2; exit 1; }
  t1b=$(date +%s%N)
  psql -q -d "$db" -At -o /dev/null -c "SELECT row_to_json(e) FROM (SELECT tx_id::text, global_id, aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at FROM events ORDER BY tx_id, global_id LIMIT 10000) e"
  t2=$(date +%s%N)
  page_times+=("$(ms "$t0" "$t1")") ref_times+=("$(ms "$t1b" "$t2")")
done
t0=$(date +%s%N)
lines=$("$bin" replay | wc -l)
t1=$(date +%s%N)
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
page=$(median "${page_times[@]}") ref=$(median "${ref_times[@]}")
echo "log: $(psql -d "$db" -Atc 'SELECT count(*) FROM events') events (Postgres, $bin)"
echo "GET /api/history/events?limit=10000 ($(stat -c %s "$dir/page.json") bytes, curl): median ${page} ms of ${page_times[*]}"
echo "reference, psql fetching the same 10,000 rows as JSON: median ${ref} ms of ${ref_times[*]}"
echo "ratio page / reference: $(echo "scale=2; $page / ($ref + 0.001)" | bc)"
echo "annals replay of the whole log ($lines envelopes) to a pipe: $(ms "$t0" "$t1") ms"
