#!/usr/bin/env bash
# The HTML report opens offline in a browser: render a small report with headless Chromium
# (installed from Debian when missing) and check the screenshot (cli/ci/render_report.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash cli/ci/render_report.sh
