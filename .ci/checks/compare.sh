#!/usr/bin/env bash
# compare/run.sh builds this tree and a revision into one binary and checks that both give the
# same bits before timing them. Here the revision is HEAD itself, on one shape per layout with
# a token time budget: the tool builds and runs, and a build of HEAD agrees with itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
compare/run.sh HEAD 96x24@56 --passes 1 --seconds 0.01
