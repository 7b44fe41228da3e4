#!/usr/bin/env bash
# Unoptimized builds: a dependent crate builds conv1x1 at opt-level 0 by default (`cargo build`,
# `cargo test`), and there every local of every inlined function gets a stack slot of its own.
# tests/stack.rs runs every kernel on a thread with a small stack; the test profile optimizes,
# so here it runs with conv1x1 itself at opt-level 0 as well, natively (every x86 ISA this CPU
# has) and for aarch64 (NEON) under qemu. About a minute: the dependencies' builds from the
# earlier legs are reused (they are unoptimized in the test profile already).
#
# Runs last of .ci/checks (alphabetical order): the override replaces the optimized conv1x1
# in target/, so a later test-profile build there would compile it again.
set -euo pipefail
cd "$(dirname "$0")/../.."

unoptimized=(--config 'profile.test.package.conv1x1.opt-level=0')
cargo test -p conv1x1 --test stack "${unoptimized[@]}"
cargo test -p conv1x1 --test stack --target aarch64-unknown-linux-gnu "${unoptimized[@]}"
