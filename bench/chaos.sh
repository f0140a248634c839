#!/usr/bin/env bash
# Fault injection for annals on Postgres + NATS JetStream: see bench/README.md, "Chaos".
#   bash bench/chaos.sh            # full run: 20 kill/restart faults + a 60 s NATS outage (~3 min)
#   bash bench/chaos.sh --short    # one fault of each kind + a 10 s outage (~35 s), for CI
# Other flags go to bench/chaos.py (--users, --pace, --rounds, --outage, --out, --keep).
# Needs: Postgres on 127.0.0.1:5432 (user postgres, trust; PGHOST/PGPORT/PGUSER override),
# psql, python3 (standard library only), /usr/sbin/nats-server (NATS_SERVER overrides). It starts
# its own nats-server on a free port with a temporary store; the NATS on 4222 is not touched.
# Builds the release binary once (CHAOS_NO_BUILD=1 or ANNALS_BIN=<path> skip the build).
# Report: bench/results/chaos.md (short: bench/results/chaos-short.md); exit 1 if a count that
# must be zero is not.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results/chaos.md
for arg in "$@"; do [ "$arg" = --short ] && out=bench/results/chaos-short.md; done
target=${CARGO_TARGET_DIR:-target}
bin=${ANNALS_BIN:-$target/release/annals}
if [ -z "${ANNALS_BIN:-}" ] && [ -z "${CHAOS_NO_BUILD:-}" ]; then
  cargo build --release -p annals >&2
fi
[ -x "$bin" ] || { echo "chaos: no annals binary at $bin" >&2; exit 2; }
for tool in psql python3 "${NATS_SERVER:-/usr/sbin/nats-server}"; do
  command -v "$tool" >/dev/null || { echo "chaos: $tool not found" >&2; exit 2; }
done
exec python3 bench/chaos.py --binary "$bin" --out "$out" "$@"
