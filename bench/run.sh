#!/usr/bin/env bash
# Runs the benchmark on SQLite and PostgreSQL in release mode and prints the
# Markdown rows for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -p bench
echo "| database | what | throughput | p50 | p99 |"
echo "|---|---|---|---|---|"
export RUST_LOG="${RUST_LOG:-warn}"
./target/release/rastro-bench --database sqlite "$@"
./target/release/rastro-bench --database "$PG_URL" "$@"
