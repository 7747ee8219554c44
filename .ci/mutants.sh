#!/usr/bin/env bash
# Mutation testing of what a change touched: cargo-mutants mutates the lines
# of `domain` and the adapter crates changed since MUTANTS_BASE (default: the
# commit before HEAD) and runs the test suite against each mutant. A mutant
# the suite does not catch fails the run: add the test that would, or list it
# in TESTING.md with the reason it cannot matter.
#
# Bounded: each mutant costs a rebuild and a run of the suite (about two
# minutes here), so the run stops after MUTANTS_SECONDS (default 600) and says
# how many it reached. The order is cargo-mutants' own, so a run of one change
# is repeatable. Mutants found equivalent are excluded in .cargo/mutants.toml,
# with their reasons in TESTING.md. The whole crate is scored by
# .ci/mutants-full.sh.
set -uo pipefail
cd "$(dirname "$0")/.."

VERSION=27.1.0
if ! cargo mutants --version 2>/dev/null | grep -q "$VERSION"; then
  echo "== installing cargo-mutants $VERSION"
  cargo install cargo-mutants --version "$VERSION" --locked || exit 1
fi

BASE="${MUTANTS_BASE:-HEAD~1}"
BUDGET="${MUTANTS_SECONDS:-600}"
OUT=target/mutants-diff
mkdir -p "$OUT"
if ! git diff --no-color --no-ext-diff "$BASE" HEAD -- domain adapters > "$OUT/change.diff"; then
  echo "== cannot diff against $BASE: set MUTANTS_BASE to the last commit that landed"
  exit 1
fi

# Mutated: domain and each adapter; tested by their own tests, the server's
# and the black-box suite.
PACKAGES=(-p domain)
TESTED=domain,api,tests
for manifest in adapters/*/Cargo.toml; do
  name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  PACKAGES+=(-p "$name")
  TESTED="$TESTED,$name"
done
COMMON=("${PACKAGES[@]}" --in-diff "$OUT/change.diff")

if ! cargo mutants --list "${COMMON[@]}" > "$OUT/list.txt"; then
  echo "== cargo-mutants could not list the change's mutants"
  exit 1
fi
total=$(wc -l < "$OUT/list.txt")
echo "== mutants: $total in the lines of domain and adapters changed since $BASE ($(git rev-parse --short "$BASE")); budget ${BUDGET}s"
[ "$total" -eq 0 ] && exit 0

# SIGINT makes cargo-mutants put the source back before it stops.
timeout -s INT "$BUDGET" cargo mutants "${COMMON[@]}" --test-package "$TESTED" --in-place --baseline=skip \
  --timeout 300 --build-timeout 600 --no-times -o "$OUT" -- --tests
rc=$?
results="$OUT/mutants.out"
for kind in missed timeout; do
  if [ -s "$results/$kind.txt" ]; then
    echo "== $kind mutants:"
    cat "$results/$kind.txt"
  fi
done
if [ -s "$results/missed.txt" ]; then
  echo "== some mutants were not caught (above)"
  exit 1
fi
tested=$(cat "$results"/caught.txt "$results"/unviable.txt "$results"/timeout.txt 2>/dev/null | wc -l)
if [ "$tested" -eq 0 ]; then
  echo "== no mutant was tested within ${BUDGET}s: raise MUTANTS_SECONDS"
  exit 1
fi
case $rc in
  0 | 3) echo "== $tested of $total mutants tested: none missed (a mutant that hangs the suite counts as caught)" ;;
  124 | 130 | 143) echo "== budget reached: $tested of $total mutants tested, none missed" ;;
  *) echo "== cargo-mutants failed ($rc)"; exit "$rc" ;;
esac
