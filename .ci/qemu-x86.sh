#!/usr/bin/env bash
# Runs the library's x86-64 test binaries under qemu-x86_64 with older CPU models, asserting
# which ISA dispatch picks there (tests/dispatch.rs reads CONV1X1_EXPECT_ISA). qemu emulates
# SIMD slowly, so the sweeps run in their reduced form (CONV1X1_TEST_QUICK=1);
# CONV1X1_EMULATED=1 tells tests about emulation limits (see tests/guard_page.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
# The root package's test binaries from the same selection as the README's `cargo test
# --workspace` (cargo unifies dependency features over the selected packages; `-p conv1x1`
# alone would build another copy of the library).
mapfile -t bins < <(cargo test --workspace --tests --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, os, sys
root = os.path.realpath("Cargo.toml")
for line in sys.stdin:
    msg = json.loads(line)
    if (msg.get("reason") == "compiler-artifact" and msg.get("executable")
            and msg["profile"]["test"] and os.path.realpath(msg["manifest_path"]) == root):
        print(msg["executable"])
')
[ ${#bins[@]} -gt 0 ] || { echo "no test binaries found"; exit 1; }
for leg in "Haswell avx2" "Nehalem scalar"; do
    set -- $leg
    echo "--- qemu-x86_64 -cpu $1 (dispatch must pick $2)"
    for bin in "${bins[@]}"; do
        echo "$(basename "$bin")"
        CONV1X1_EMULATED=1 CONV1X1_TEST_QUICK=1 CONV1X1_EXPECT_ISA="$2" qemu-x86_64 -cpu "$1" "$bin" -q
    done
done
