#!/usr/bin/env bash
# Renders a small `conv1x1 report` with headless Chromium and checks the screenshot is a real
# picture, i.e. that report.html opens offline and draws its charts.
# Usage: cli/ci/render_report.sh [OUTPUT.png]   (run from the repository root)
set -euo pipefail

png="${1:-$(mktemp -d)/report.png}"
command -v chromium >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

work="$(mktemp -d)"
cargo run --release -q -p conv1x1-cli -- report --quiet --min-time 0.01 \
    --shape 256x64@56 --shape 64x256@56 --shape 512x1024@28s2 --shape 96x24@56 \
    --out "$work/report"

# No network: the page must not need it. Chromium's own background traffic is switched off.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --screenshot="$png" --window-size=1280,2000 \
    "file://$work/report/report.html" 2>/dev/null

size=$(stat -c %s "$png")
echo "screenshot: $png ($size bytes)"
# A blank 1280x2000 page compresses to a few KiB; text, tables and charts make it far larger.
[ "$size" -gt 60000 ] || { echo "screenshot too small: the report did not render" >&2; exit 1; }
