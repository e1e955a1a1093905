#!/usr/bin/env bash
# Runs every fuzz target (fuzz/src/bin/*.rs) with cargo-fuzz and libFuzzer for a bounded time
# each; fails when a target crashes (the input is kept in fuzz/artifacts/<target>/).
#
#   FUZZ_SECONDS          seconds per target (default 20)
#   FUZZ_TARGETS          space-separated targets to run (default: all)
#   FUZZ_SANITIZER        cargo-fuzz sanitizer (default none: safe Rust needs no ASan to find
#                         panics, overflows and stack exhaustion, and builds much faster)
#   AUDITRELAY_TOOLS_DIR  where cargo-fuzz is installed once (default ~/.cache/auditrelay-tools)
#   FUZZ_TARGET_DIR       cargo target dir of the fuzz build (default $CARGO_TARGET_DIR/fuzz when
#                         CARGO_TARGET_DIR is set, so CI reuses it across clean clones; else fuzz/target)
#
# cargo-fuzz passes nightly-only flags (-Z, sanitizer coverage); on the stable 1.95 toolchain
# RUSTC_BOOTSTRAP=1 allows them for this build only. 0.13.2 is the cargo-fuzz that installs
# with rustc 1.95.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION="0.13.2"
seconds="${FUZZ_SECONDS:-20}"
sanitizer="${FUZZ_SANITIZER:-none}"
tools="${AUDITRELAY_TOOLS_DIR:-$HOME/.cache/auditrelay-tools}"
default_target_dir="$PWD/fuzz/target"
[ -n "${CARGO_TARGET_DIR:-}" ] && default_target_dir="$CARGO_TARGET_DIR/fuzz"
target_dir="${FUZZ_TARGET_DIR:-$default_target_dir}"

log() { printf '== %s\n' "$*" >&2; }

install_cargo_fuzz() {
    if [ -x "$tools/bin/cargo-fuzz" ] && "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
        return 0
    fi
    log "installing cargo-fuzz $CARGO_FUZZ_VERSION into $tools (once)"
    mkdir -p "$tools"
    env -u CARGO_TARGET_DIR cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$tools" >&2
}

if [ "$seconds" = "0" ]; then
    log "FUZZ_SECONDS=0: fuzzing skipped"
    exit 0
fi
install_cargo_fuzz
export PATH="$tools/bin:$PATH" RUSTC_BOOTSTRAP=1

if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    targets=()
    for file in fuzz/src/bin/*.rs; do targets+=("$(basename "$file" .rs)"); done
fi

cd fuzz
started=$SECONDS
log "building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)"
for target in "${targets[@]}"; do
    cargo fuzz build --sanitizer "$sanitizer" --target-dir "$target_dir" "$target" >&2
done
log "fuzz build took $((SECONDS - started)) s"

failed=()
for target in "${targets[@]}"; do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    log "fuzzing $target for $seconds s"
    # -timeout: one input taking longer than 10 s counts as a hang (a crash).
    if ! cargo fuzz run --sanitizer "$sanitizer" --target-dir "$target_dir" "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 2>"corpus/$target.log"; then
        tail -n 40 "corpus/$target.log" >&2
        failed+=("$target")
    else
        grep -E '^stat::number_of_executed_units|^Done' "corpus/$target.log" | sed "s/^/  $target: /" >&2 || true
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz targets crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
log "all ${#targets[@]} fuzz targets ran ${seconds} s each without a crash"
