#!/usr/bin/env bash
# Compares this tree's kernels with those of an earlier revision, call by call in one process.
#   compare/run.sh REV [SHAPE...] [--isa ISA] [--layout L] [--seconds S] [--passes P]
# REV is any git revision (HEAD~1, a commit, a tag). Its tree is exported into
# target/compare-base with its package version renamed, so that Cargo can hold both builds
# in one lockfile; the rest of the arguments go to the comparison (see compare/README.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rev="${1:?usage: compare/run.sh REV [SHAPE...] [--isa ISA] [--layout L] [--seconds S] [--passes P]}"
shift
base="$root/target/compare-base"
rm -rf "$base"
mkdir -p "$base"
# -m: files get the time of extraction, not the commit's. Cargo rebuilds by modification
# time, so an older revision exported over a newer build would otherwise look up to date.
git -C "$root" archive "$rev" | tar -x -m -C "$base"
# Only the first `version` line: the package's own.
sed -i '0,/^version = .*/s//version = "0.0.0-base"/' "$base/Cargo.toml"
# The workspace's pinned dependency versions, for both builds.
cp "$root/Cargo.lock" "$root/compare/Cargo.lock"
echo "base: $(git -C "$root" rev-parse --short "$rev") ($rev); this tree: $(git -C "$root" describe --always --dirty)" >&2
cargo run --release --manifest-path "$root/compare/Cargo.toml" -- "$@"
