#!/usr/bin/env bash
# Fuzzes every parser of outside input (fuzz/fuzz_targets/*) with cargo-fuzz (libFuzzer, no sanitizer).
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (default 20, the CI pass), from its corpus
#   scripts/fuzz.sh cmin [TARGET...]        minimise the committed corpora (fuzz/corpus/<target>)
# The machine has one stable toolchain; cargo-fuzz passes nightly flags (-Cpasses=sancov-module, -Z...),
# which RUSTC_BOOTSTRAP=1 lets stable rustc accept. The build is `--dev --sanitizer none`
# (docs/development.md, Fuzzing): the fuzzed code is safe Rust, so AddressSanitizer would find nothing libFuzzer does not,
# and building the AWS SDK with it in release takes tens of GB of memory. A crash fails the script;
# libFuzzer saves the input under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION="0.13.2"
export RUSTC_BOOTSTRAP=1
# Fuzz builds never share the workspace's target dir: their RUSTFLAGS differ, so they would rebuild it all.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/fuzz/target}"

log() { printf '==> %s\n' "$*"; }

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked
fi

[ "${1:-}" = "install" ] && exit 0

# One profile for build, run and cmin, so each reuses what the build made.
BUILD=(--fuzz-dir fuzz --dev --sanitizer none)
TARGETS=(webhook ecs_event yace_config rule_file prometheus_config remote_write state_records)

if [ "${1:-}" = "cmin" ]; then
  shift
  for t in "${@:-${TARGETS[@]}}"; do
    log "minimising the corpus of $t"
    # A set cover of the edges (not of their hit counts) keeps every edge in a few hundred files
    # per target, where a plain merge keeps two to three times as many.
    cargo fuzz cmin "${BUILD[@]}" "$t" "fuzz/corpus/$t" -- -set_cover_merge=1 -use_counters=0 -max_len=65536
  done
  exit 0
fi

SECONDS_PER_TARGET="${1:-20}"
[ $# -gt 0 ] && shift
# One process on one core (libFuzzer's default; -jobs would fork workers), so a 2-core runner keeps a
# core for everything else. Runs work on a copy of the committed corpus, so a CI pass never changes
# the tree; -max_len leaves room for nested PromQL.
cargo fuzz build "${BUILD[@]}"
for t in "${@:-${TARGETS[@]}}"; do
  log "fuzzing $t for ${SECONDS_PER_TARGET}s"
  work="$(mktemp -d)"
  cp -r "fuzz/corpus/$t/." "$work/"
  cargo fuzz run "${BUILD[@]}" "$t" "$work" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 -timeout=30 -print_final_stats=1
  rm -rf "$work"
  # Inputs found earlier whose crash is upstream's (docs/development.md, Fuzzing): the target
  # passes over them, and must keep doing so.
  if compgen -G "fuzz/artifacts-found/$t/*" > /dev/null; then
    log "replaying the inputs kept in fuzz/artifacts-found/$t"
    cargo fuzz run "${BUILD[@]}" "$t" fuzz/artifacts-found/"$t"/* -- -runs=1
  fi
done
