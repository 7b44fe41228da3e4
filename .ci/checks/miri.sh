#!/usr/bin/env bash
# Runs the tests under Miri, which reports undefined behaviour: out-of-bounds pointers (also
# ones formed and never read), use of uninitialised memory, misaligned accesses and data
# races. Miri runs no x86 or Arm SIMD, so dispatch finds only the portable path (cpufeatures
# reports no features under Miri). The test files written for it run: tests/miri_scalar.rs
# (every scalar kernel on small shapes that reach every branch), the bad-input battery, and
# the concurrency tests (Miri's data-race detector over shared plans and work items), plus
# the unit tests; the sweeps made for native speed would take hours in an interpreter (those
# in the files above are `#[cfg_attr(miri, ignore)]`). A few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."

source .ci/nightly.sh
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    need_nightly
    rustup +nightly component add miri rust-src || skip "no miri component for nightly"
fi
cargo +nightly miri setup

# Strict provenance: no integer-to-pointer casts anywhere. Symbolic alignment: alignment is
# checked against what the allocation promises, not against where it happens to land.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance -Zmiri-symbolic-alignment-check}"

start=$SECONDS
cargo +nightly miri test -p conv1x1 --lib --test miri_scalar --test bad_input --test concurrency
echo "miri.sh: $((SECONDS - start)) s"
