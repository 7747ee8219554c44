#!/usr/bin/env bash
# Bounded fuzz runs of the GraphQL request path and the TOTVS R2 SOAP envelope
# reader (fuzz/fuzz_targets), each: first every
# saved regression input, then FUZZ_SECONDS (default 60) of new inputs from the
# seeds. Any crash, stack overflow or input slower than 10 s fails; libFuzzer
# writes the input to fuzz/artifacts/ and `cargo fuzz run graphql_request <file>`
# replays it. Works on the stable toolchain (no sanitizer).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if ! cargo fuzz --version 2>/dev/null | grep -q "0.13"; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.1 --locked
fi

FLAGS=(--sanitizer none)
for TARGET in graphql_request r2_envelope; do
  echo "== fuzz: building $TARGET"
  cargo fuzz build "${FLAGS[@]}" "$TARGET"

  echo "== fuzz: regressions of $TARGET"
  cargo fuzz run "${FLAGS[@]}" "$TARGET" "regressions/$TARGET" -- -runs=0 -timeout=10

  # New inputs go to a scratch corpus, not into the repository.
  corpus="$(mktemp -d)"
  cp "seeds/$TARGET"/* "$corpus"/
  echo "== fuzz: $TARGET for ${FUZZ_SECONDS:-60} s"
  log="$corpus.log"
  if ! cargo fuzz run "${FLAGS[@]}" "$TARGET" "$corpus" "seeds/$TARGET" -- \
    -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict="$TARGET.dict" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: the run found a failing input (see fuzz/artifacts/$TARGET)"
    exit 1
  fi
  grep -E "^#[0-9]+ +DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log"
  rm -rf "$log" "$corpus"
done
