#!/usr/bin/env bash
# Runs the native test suite under AddressSanitizer: every read or write of a byte outside a
# live allocation (a vector load past the end of the caller's buffer, a store into a
# neighbour) aborts with a report. The tests sweep every ISA this CPU has (scalar, AVX2,
# AVX-512 here) over shapes that reach every tail, on exactly sized, NaN-poisoned buffers.
# ASan checks full-width vector loads and stores and, lane by lane, the masked ones of AVX2
# (VMASKMOVPS) and AVX-512 (checked here on a deliberate one-lane overrun of each).
#
# The prebuilt standard library is used as it is (not rebuilt with -Zbuild-std, which takes
# several minutes more): its own code is not instrumented, but every heap allocation goes
# through the sanitizer's malloc and gets red zones, and all of this crate's code is checked.
# The sanitizer changes no type layout or calling convention that the library and std share,
# hence -Cunsafe-allow-abi-mismatch=sanitizer. A few minutes, most of it building.
set -euo pipefail
cd "$(dirname "$0")/../.."

target=x86_64-unknown-linux-gnu
source .ci/nightly.sh
need_nightly

# With an explicit --target, RUSTFLAGS reach the crates of the target only, not build scripts
# or proc macros. Leak detection is on by default; halt on the first error.
# The checks are calls into the runtime rather than inline code
# (-asan-instrumentation-with-call-threshold=0): the generated kernels are large unrolled
# functions, and with a check inlined at each of their accesses the library alone took 10
# minutes to build, of this script's 11. With calls the whole build takes 5 and the tests
# still run in under a minute. The checks are the same (the canary below shows them catching
# a one-float overrun).
export RUSTFLAGS="-Zsanitizer=address -Cunsafe-allow-abi-mismatch=sanitizer -Cllvm-args=-asan-instrumentation-with-call-threshold=0 ${RUSTFLAGS:-}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1}"
# A separate target dir: sanitized artifacts must not mix with the normal ones.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/asan"

start=$SECONDS
# Integration tests only: the library's own unit tests (a second full build of the library as
# a test harness, which doubled this script's time) check no kernel that the sweeps miss.
# tests/stack.rs runs kernels on threads of 192 KiB; the sanitizer's red zones grow every stack
# frame (under it the cases need between 192 and 512 KiB), so here they get 1 MiB.
CONV1X1_TEST_STACK_KIB=1024 cargo +nightly test -p conv1x1 --target "$target" --test '*' --features rayon

# The canary (tests/asan_canary.rs): each ISA's kernels, in each layout, read or write one
# float past a buffer. Each run must end in a heap-buffer-overflow report from the sanitizer;
# one that completes means the checks above could miss an overrun.
for isa in scalar avx2 avx512; do
    for layout in nchw nhwc; do
        for operand in input output; do
            which="$isa:$layout:$operand"
            log=$(CONV1X1_ASAN_CANARY=$which cargo +nightly test -q -p conv1x1 \
                --target "$target" --features rayon --test asan_canary -- --ignored \
                --nocapture 2>&1) && status=0 || status=$?
            if grep -q "is not supported here" <<<"$log"; then
                echo "canary $which: skipped (not supported on this CPU)"
            elif [ "$status" -ne 0 ] && grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" <<<"$log"; then
                echo "canary $which: overrun reported"
            else
                echo "$log" | tail -40
                echo "asan.sh: canary $which: the overrun was not reported (exit status $status)" >&2
                exit 1
            fi
        done
    done
done
echo "asan.sh: $((SECONDS - start)) s"
