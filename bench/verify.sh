#!/usr/bin/env bash
# How fast `annals verify` checks the log's tamper evidence (every stream chain and every seal),
# on a generated log of EVENTS events (default 100,000: user registrations spread over streams
# of 4, as in bench/history.sh), in events/s, next to references measured in the same run:
# the database alone sending the same rows to its command-line client (psql / sqlite3), and
# those bytes piped through sha256sum (reading plus one SHA-256 over everything).
#
# The rows are inserted with SQL and hashed by annals' one-time backfill (what an existing
# deployment goes through on upgrade; timed too), then sealed by a relay (`annals serve`).
#
#   bench/verify.sh [postgres|embedded|all]   default all → bench/results/verify.md
#   bench/verify.sh check    both, one run each → bench/results/verify-check.md (not kept in
#                            git): the test suite's proof that an untouched log of 100,000
#                            events verifies (fails otherwise)
#   BENCH_NO_BUILD=1 reuses the release binary; ANNALS_BIN=<path> measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
EVENTS="${EVENTS:-100000}"
RUNS="${RUNS:-3}"
mode="${1:-all}"
out="bench/results/verify.md"
if [[ "$mode" == check ]]; then
  mode=all RUNS=1 out="bench/results/verify-check.md"
fi
[[ "${BENCH_NO_BUILD:-}" == 1 ]] || cargo build --release -p annals >&2
bin="${ANNALS_BIN:-$CARGO_TARGET_DIR/release/annals}"
db="annals_verify_bench_$$"
dir="$(mktemp -d)"
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
export RUST_LOG=error ANNALS_SEAL_INTERVAL_MS=200
unset NATS_URL

ms() { echo "$(( ($2 - $1) / 1000000 ))"; }
now() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
rate() { echo "$(( $1 * 1000 / ($2 > 0 ? $2 : 1) ))"; }

# $1 = mode; the functions below read and write the log of that mode.
query() {
  if [[ "$1" == postgres ]]; then psql -q -d "$db" -At -c "$2"; else sqlite3 -cmd ".timeout 10000" "$dir/annals.db" "$2"; fi
}

generate() {
  if [[ "$1" == postgres ]]; then
    query postgres "
      INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
      SELECT 'user', 'u' || (n / 4), n % 4 + 1, 'UserRegistered', '1.0',
             jsonb_build_object('UserRegistered', jsonb_build_object(
               'user_id', 'u' || (n / 4), 'email', 'user' || n || '@example.com', 'first_name', 'Ada',
               'last_name', 'Lovelace', 'role', 'user', 'password_hash', repeat('x', 97),
               'score', n / 7.0, 'at', now())),
             jsonb_build_object('actor', 'u' || (n / 4), 'request_id', gen_random_uuid()::text)
        FROM generate_series(0, $EVENTS - 1) n;
      ANALYZE events;"
  else
    query embedded "
      WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < $EVENTS - 1)
      INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
      SELECT 'user', 'u' || (n / 4), n % 4 + 1, 'UserRegistered', '1.0',
             json_object('UserRegistered', json_object(
               'user_id', 'u' || (n / 4), 'email', 'user' || n || '@example.com', 'first_name', 'Ada',
               'last_name', 'Lovelace', 'role', 'user', 'password_hash', printf('%.97c', 'x'),
               'score', n / 7.0, 'at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))),
             json_object('actor', 'u' || (n / 4), 'request_id', lower(hex(randomblob(16))))
        FROM g;"
  fi
  # As if they had been written before tamper evidence: the next start hashes them.
  query "$1" "UPDATE chain_backfill SET upto = (SELECT max(global_id) FROM events), done = false"
}

reference() {
  if [[ "$1" == postgres ]]; then
    psql -q -d "$db" -At -c "COPY (SELECT tx_id, global_id, aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at, digest, hash FROM events ORDER BY tx_id, global_id) TO STDOUT"
  else
    sqlite3 "$dir/annals.db" "SELECT global_id, aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at, hex(digest), hex(hash) FROM events ORDER BY global_id"
  fi
}

measure() {
  local m="$1"
  rm -rf "$dir" && mkdir -p "$dir"
  export ANNALS_DATA_DIR="$dir"
  if [[ "$m" == postgres ]]; then
    psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
    export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db"
  else
    unset DATABASE_URL
  fi
  "$bin" migrate >/dev/null
  generate "$m"
  local t0 t1
  t0=$(now); "$bin" migrate >/dev/null; t1=$(now)
  local backfill; backfill=$(ms "$t0" "$t1")
  # A relay seals what the log holds.
  local port=$((20000 + RANDOM % 20000))
  ANNALS_BIND="127.0.0.1:$port" "$bin" serve & server=$!
  local last; last=$(query "$m" "SELECT max(global_id) FROM events")
  for _ in $(seq 600); do
    [[ "$(query "$m" "SELECT coalesce(max(last_gid), 0) FROM seals")" -ge "$last" ]] && break
    sleep 0.1
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  local events; events=$(query "$m" "SELECT count(*) FROM events")
  local seals; seals=$(query "$m" "SELECT count(*) FROM seals")
  local verify_times=() read_times=() hash_times=()
  for _ in $(seq "$RUNS"); do
    t0=$(now)
    "$bin" verify > "$dir/verify.txt" || { cat "$dir/verify.txt" >&2; echo "verify failed" >&2; exit 1; }
    t1=$(now); verify_times+=("$(ms "$t0" "$t1")")
    t0=$(now); reference "$m" > /dev/null; t1=$(now); read_times+=("$(ms "$t0" "$t1")")
    t0=$(now); reference "$m" | sha256sum > /dev/null; t1=$(now); hash_times+=("$(ms "$t0" "$t1")")
  done
  grep -q "^intact" "$dir/verify.txt" || { cat "$dir/verify.txt" >&2; exit 1; }
  local v r h; v=$(median "${verify_times[@]}") r=$(median "${read_times[@]}") h=$(median "${hash_times[@]}")
  {
    echo "### $m"
    echo
    echo "| | time (median of $RUNS) | events/s |"
    echo "|---|---|---|"
    echo "| \`annals verify\` ($events events, $seals seals) | $v ms (${verify_times[*]}) | **$(rate "$events" "$v")** |"
    echo "| reference: the client reading the same rows | $r ms (${read_times[*]}) | $(rate "$events" "$r") |"
    echo "| reference: the same rows through \`sha256sum\` | $h ms (${hash_times[*]}) | $(rate "$events" "$h") |"
    echo "| one-time backfill hashing the rows (\`annals migrate\`) | $backfill ms | $(rate "$events" "$backfill") |"
    echo
    echo "verify / read reference: $(echo "scale=2; $v / ($r + 0.001)" | bc); verify / sha256sum reference: $(echo "scale=2; $v / ($h + 0.001)" | bc)"
    echo
  } >> "$report"
}

report="$(mktemp)"
: > "$report"
case "$mode" in
  postgres | embedded) measure "$mode" ;;
  all) measure postgres; measure embedded ;;
  *) echo "usage: bench/verify.sh [postgres|embedded|all|check]" >&2; exit 2 ;;
esac
{
  echo "# annals verify: speed"
  echo
  echo "\`bash bench/verify.sh $mode\`, $(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores, annals $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $bin."
  echo "Target: at least 100,000 events/s."
  echo
  cat "$report"
} > "$out"
rm -f "$report"
cat "$out"
