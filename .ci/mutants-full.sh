#!/usr/bin/env bash
# Mutation score of a whole crate (default: domain), or of some of its files:
#   .ci/mutants-full.sh                         every mutant of domain
#   .ci/mutants-full.sh -f domain/src/status.rs  one file (any cargo-mutants filter)
#   .ci/mutants-full.sh --sharding round-robin --shard 3/20
#                                                every twentieth mutant: a sample
#                                                spread evenly over the crate
# Each mutant rebuilds and runs the black-box suite (about two minutes here),
# so a whole run of domain (about 2,000 mutants) is a job for a spare machine
# or many shards; each run's counts land in TESTING.md's table with its date,
# filter and commit, and its missed mutants below it, for reasons to be given.
set -uo pipefail
cd "$(dirname "$0")/.."
PACKAGE="${MUTANTS_PACKAGE:-domain}"
OUT="target/mutants-full"
rm -rf "$OUT"
mkdir -p "$OUT"
# nextest stops at a mutant's first failing test, where cargo test would run
# the rest of the suite's binary: a caught mutant costs a fraction of the suite.
if cargo nextest --version >/dev/null 2>&1; then
  TOOL=(--test-tool nextest)
else
  TOOL=(--test-tool cargo -- --tests)
fi
cargo mutants -p "$PACKAGE" --test-package "$PACKAGE,api,tests" --in-place --no-times \
  --timeout 300 --build-timeout 600 -o "$OUT" "$@" "${TOOL[@]}" | tee "$OUT.log"
rc=${PIPESTATUS[0]}
[ -f "$OUT/mutants.out/outcomes.json" ] || exit "${rc:-1}"
python3 .ci/mutants_report.py "$OUT/mutants.out/outcomes.json" "$PACKAGE" "$*" TESTING.md
exit "$rc"
