#!/usr/bin/env bash
# Fuzzing in CI: for every target, runs the committed corpus (fuzz/corpus/<target>) and the
# crash reproducers (fuzz/regressions/<target>), then fuzzes briefly from there. Fails if any
# input crashes, times out or exhausts memory; the offending input is left in
# fuzz/artifacts/<target>/.
#
#   fuzz/run-ci.sh                         # all targets, 30 s of fuzzing each
#   FUZZ_SECONDS=120 fuzz/run-ci.sh xml    # one target, longer
#
# Needs rustup (the nightly toolchain is installed if missing) and installs cargo-fuzz if missing.
# New inputs found here go to a temporary directory: the committed corpus is not modified.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-30}
all_targets=(keys xml notification response template emulator_request stored_certificates)
targets=("${@:-${all_targets[@]}}")

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi

nice -n 19 cargo +nightly fuzz build

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "fuzz/corpus/$target" "fuzz/regressions/$target" "fuzz/artifacts/$target"
  log="$scratch/$target.log"
  start=$SECONDS
  # The first directory receives new inputs; the committed ones are only read.
  if nice -n 19 cargo +nightly fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" "fuzz/regressions/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    stats=$(grep -a -E '^#[0-9]+' "$log" | tail -1 | sed 's/ \+/ /g' || true)
    echo "fuzz $target: ok in $((SECONDS - start)) s ($stats)"
  else
    echo "fuzz $target: FAILED after $((SECONDS - start)) s"
    grep -a -E -A25 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY' "$log" | head -60
    grep -a -E 'Test unit written to' "$log" || true
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing failed: ${failed[*]} (reproduce with: cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>)"
  exit 1
fi
echo "fuzzing: all ${#targets[@]} targets passed"
