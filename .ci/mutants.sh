#!/usr/bin/env bash
# Mutation testing of what a change touched: cargo-mutants mutates the lines
# of `domain` and the adapter crates changed since MUTANTS_BASE (default: the
# commit before HEAD) and runs the tests against each mutant. A mutant the
# tests do not catch fails the run: add the test that would, or list it in
# TESTING.md with the reason it cannot matter.
#
# Each crate's mutants run against the tests that can see them: `domain`'s
# against its own, the adapters', the server's and the black-box suite; an
# adapter's against its own fixtures (the server links every adapter, so a
# black-box run per adapter mutant would cost a rebuild of the server). With cargo-nextest a mutant's run
# stops at its first failing test. Bounded: the whole stage stops after
# MUTANTS_SECONDS (default 600) and says how many it reached; the order is
# cargo-mutants' own, so a run of one change is repeatable. Mutants found
# equivalent are excluded in .cargo/mutants.toml, with their reasons in
# TESTING.md. The whole crate is scored by .ci/mutants-full.sh.
set -uo pipefail
cd "$(dirname "$0")/.."

VERSION=27.1.0
if ! cargo mutants --version 2>/dev/null | grep -q "$VERSION"; then
  echo "== installing cargo-mutants $VERSION"
  cargo install cargo-mutants --version "$VERSION" --locked || exit 1
fi
if cargo nextest --version >/dev/null 2>&1; then
  TOOL=(--test-tool nextest)
else
  TOOL=(--test-tool cargo -- --tests)
fi

BASE="${MUTANTS_BASE:-HEAD~1}"
BUDGET="${MUTANTS_SECONDS:-600}"
OUT=target/mutants-diff
rm -rf "$OUT"
mkdir -p "$OUT"
if ! git diff --no-color --no-ext-diff "$BASE" HEAD -- domain adapters > "$OUT/change.diff"; then
  echo "== cannot diff against $BASE: set MUTANTS_BASE to the last commit that landed"
  exit 1
fi

# crate  tests that run against its mutants
CRATES=("domain domain,api,tests")
for manifest in adapters/*/Cargo.toml; do
  name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  CRATES+=("$name $name")
  CRATES[0]="${CRATES[0]},$name"
done

deadline=$(( $(date +%s) + BUDGET ))
total=0 tested=0 missed=0
for entry in "${CRATES[@]}"; do
  read -r crate tested_by <<< "$entry"
  out="$OUT/$crate"
  mkdir -p "$out"
  if ! cargo mutants --list -p "$crate" --in-diff "$OUT/change.diff" > "$out/list.txt"; then
    echo "== cargo-mutants could not list the mutants of $crate"
    exit 1
  fi
  count=$(wc -l < "$out/list.txt")
  total=$((total + count))
  echo "== $crate: $count mutants in the lines changed since $BASE ($(git rev-parse --short "$BASE"))"
  [ "$count" -eq 0 ] && continue
  left=$(( deadline - $(date +%s) ))
  if [ "$left" -le 0 ]; then
    echo "== budget spent before $crate"
    continue
  fi
  # SIGINT makes cargo-mutants put the source back before it stops.
  timeout -s INT "$left" cargo mutants -p "$crate" --in-diff "$OUT/change.diff" --test-package "$tested_by" --in-place \
    --baseline=skip --timeout 300 --build-timeout 600 --no-times -o "$out" "${TOOL[@]}"
  rc=$?
  case $rc in
    0 | 2 | 3 | 124 | 130 | 143) ;;
    *) echo "== cargo-mutants failed on $crate ($rc)"; exit "$rc" ;;
  esac
  results="$out/mutants.out"
  for kind in missed timeout; do
    if [ -s "$results/$kind.txt" ]; then
      echo "== $crate: $kind mutants:"
      cat "$results/$kind.txt"
    fi
  done
  tested=$((tested + $(cat "$results"/caught.txt "$results"/missed.txt "$results"/unviable.txt "$results"/timeout.txt 2>/dev/null | wc -l)))
  missed=$((missed + $(cat "$results"/missed.txt 2>/dev/null | wc -l)))
done

[ "$total" -eq 0 ] && exit 0
if [ "$missed" -gt 0 ]; then
  echo "== $missed mutants were not caught (above)"
  exit 1
fi
if [ "$tested" -eq 0 ]; then
  echo "== no mutant was tested within ${BUDGET}s: raise MUTANTS_SECONDS"
  exit 1
fi
echo "== $tested of $total mutants tested, none missed (a mutant that hangs the tests counts as caught)"
