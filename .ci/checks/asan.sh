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
export RUSTFLAGS="-Zsanitizer=address -Cunsafe-allow-abi-mismatch=sanitizer ${RUSTFLAGS:-}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1}"
# A separate target dir: sanitized artifacts must not mix with the normal ones.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/asan"

start=$SECONDS
# Integration tests only: the library's own unit tests (a second full build of the library as
# a test harness, which doubled this script's time) check no kernel that the sweeps miss.
cargo +nightly test -p conv1x1 --target "$target" --test '*' --features rayon
echo "asan.sh: $((SECONDS - start)) s"
