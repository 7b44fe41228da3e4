#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for FUZZ_SECONDS (default 30) each, built with
# AddressSanitizer, debug assertions and overflow checks. A crash, a sanitizer report, a
# panic (a failed check of the target's oracle or a panic inside the library), a timeout of
# one input or running out of memory fails the script and leaves the input in
# fuzz/artifacts/<target>/; turn it into a regression test in tests/. About 10 minutes on a
# fresh machine (installing cargo-fuzz and the sanitized build take most of it).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${FUZZ_SECONDS:-30}"
source .ci/nightly.sh
need_nightly
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

start=$SECONDS
for target in $(cargo +nightly fuzz list); do
    mkdir -p "fuzz/corpus/$target"
    dict=()
    [ -f "fuzz/dicts/$target.dict" ] && dict=(-dict="fuzz/dicts/$target.dict")
    t0=$SECONDS
    # Inputs up to 256 bytes from the start (-len_control=0): a case with a few special values
    # takes about 40, and short runs should not spend their time on tiny inputs. -timeout:
    # seconds per input.
    # --dev: unoptimized (debug assertions and overflow checks on), with AddressSanitizer.
    # An optimized sanitized build of the kernels takes over ten minutes on two cores; fuzz
    # inputs are small shapes, so unoptimized code still runs thousands of them a minute.
    if ! cargo +nightly fuzz run --dev "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=256 -len_control=0 -timeout=20 \
        -rss_limit_mb=4096 -print_final_stats=1 "${dict[@]}"; then
        echo "fuzz.sh: $target failed; inputs in fuzz/artifacts/$target/:" >&2
        ls -l "fuzz/artifacts/$target/" >&2 || true
        exit 1
    fi
    echo "fuzz.sh: $target ran $((SECONDS - t0)) s"
done
echo "fuzz.sh: $((SECONDS - start)) s"
