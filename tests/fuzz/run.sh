#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, build/fuzz) and runs each for SECONDS (default 60).
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   Every run starts from a temporary copy of tests/fuzz/corpus/<target> (the checkout is never written),
#   after replaying tests/fuzz/regressions/<target>/* (past crashes, which must stay fixed).
#   Fails when any target crashes, leaks, trips a sanitizer or breaks an invariant; the input that did it is
#   kept under $WSSERVE_FUZZ_ARTIFACTS (default build/fuzz/artifacts) and printed as hex.
# Environment:
#   WSSERVE_FUZZ_BUILD_DIR   build directory (default build/fuzz)
#   WSSERVE_FUZZ_CORPUS_DIR  keep a growing corpus there (<dir>/<target>) instead of a temporary copy
#   WSSERVE_FUZZ_JOBS        parallel fuzzing processes per target (default 1: libFuzzer -fork=N when above)
#   WSSERVE_FUZZ_ARGS        extra libFuzzer flags, e.g. "-max_len=65536"
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-60}"
shift || true
all_targets=(fuzz_envelope fuzz_v1json fuzz_v2json fuzz_v2binary fuzz_queryparams fuzz_httphead fuzz_config fuzz_wsframe fuzz_userbroadcast fuzz_tls)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
build="${WSSERVE_FUZZ_BUILD_DIR:-$root/build/fuzz}"
artifacts="${WSSERVE_FUZZ_ARTIFACTS:-$build/artifacts}"
jobs="${WSSERVE_FUZZ_JOBS:-1}"
cxx="${WSSERVE_FUZZ_CXX:-clang++-14}"
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }

echo "== fuzz: configure and build ($build, $cxx, ASan+UBSan+libFuzzer)"
# Debug keeps Q_ASSERT (QByteArray::at bounds checks) live; -O1 keeps the executions per second up.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS=-O1 -DWSSERVE_FUZZ=ON -DWSSERVE_SANITIZE="address;undefined" -DWSSERVE_BUILD_GUI=OFF \
    -DWSSERVE_BUILD_TESTS=OFF -DWSSERVE_WERROR=ON >"$build.configure.log" 2>&1 \
    || { cat "$build.configure.log" >&2; exit 1; }
flock /tmp/wsserve-build.lock cmake --build "$build" --target "${targets[@]}"

mkdir -p "$artifacts"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for target in "${targets[@]}"; do
    echo "== fuzz: $target for ${seconds}s"
    bin="$build/tests/fuzz/$target"
    regressions="$root/tests/fuzz/regressions/$target"
    if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
        echo "-- replaying $(ls "$regressions" | wc -l) regression input(s)"
        if ! "$bin" -runs=1 "$regressions"/* >"$work/$target.replay.log" 2>&1; then
            cat "$work/$target.replay.log"
            failed+=("$target (regression input)")
            continue
        fi
    fi
    if [ -n "${WSSERVE_FUZZ_CORPUS_DIR:-}" ]; then
        corpus="$WSSERVE_FUZZ_CORPUS_DIR/$target"
        mkdir -p "$corpus"
    else
        corpus="$work/corpus-$target"
        mkdir -p "$corpus"
    fi
    cp -n "$root/tests/fuzz/corpus/$target/"* "$corpus/"
    log="$artifacts/$target.log"
    parallel=()
    [ "$jobs" -gt 1 ] && parallel=(-fork="$jobs")
    # -timeout: one input slower than 10 s is a finding (a hang); -rss_limit_mb bounds memory.
    # shellcheck disable=SC2086  # WSSERVE_FUZZ_ARGS is a list of flags
    if "$bin" "$corpus" -dict="$root/tests/fuzz/phoenix.dict" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
        "${parallel[@]}" ${WSSERVE_FUZZ_ARGS:-} >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb' "$log" \
            | tr '\n' ' ' | sed 's/stat:://g'
        echo "corpus=$(ls "$corpus" | wc -l)"
    else
        tail -n 60 "$log"
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "== fuzz: FAILED: ${failed[*]}" >&2
    for input in "$artifacts"/*-crash-* "$artifacts"/*-leak-* "$artifacts"/*-timeout-* "$artifacts"/*-oom-*; do
        [ -e "$input" ] || continue
        echo "-- $input ($(stat -c %s "$input") bytes):" >&2
        head -c 512 "$input" | od -An -tx1 -c | head -n 40 >&2
    done
    exit 1
fi
echo "== fuzz: ok (${#targets[@]} targets, ${seconds}s each)"
