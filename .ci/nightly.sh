# Sourced by the checks that need the nightly toolchain (.ci/checks/{asan,fuzz,miri}.sh).
# The nightly toolchain (and its components) cannot be downloaded on every machine: where it
# is missing and cannot be installed, `skip` says so loudly and ends the check successfully,
# unless REQUIRE_NIGHTLY=1 makes that a failure.
skip() {
    echo "$(basename "$0"): SKIPPED: $*" >&2
    [ "${REQUIRE_NIGHTLY:-0}" = 1 ] && exit 1
    exit 0
}

# Installs the nightly toolchain if it is missing, or skips.
need_nightly() {
    rustup toolchain list | grep -q '^nightly' ||
        rustup toolchain install nightly --profile minimal || skip "no nightly toolchain"
}
