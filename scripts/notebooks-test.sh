#!/usr/bin/env bash
# Runs the notebook test (notebooks/notebooks_test.go): executes every notebook headless with the kernel
# "einspace" and checks the outputs of every cell. It takes about 5 minutes warm (more with a cold Go build
# cache), longer than go test's default 10-minute -timeout allows with headroom, hence this script.
# Executed copies are kept in out/notebooks-test/ for inspection.
#
#   bash scripts/notebooks-test.sh            # all notebooks
#   bash scripts/notebooks-test.sh 03         # the subtests matching 03
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup-notebooks.sh --skip-apt >/dev/null # the kernel "einspace" for this checkout
export EINSPACE_NOTEBOOKS_OUT="${EINSPACE_NOTEBOOKS_OUT:-$PWD/out/notebooks-test}"
run='^TestNotebooks$'
[ $# -gt 0 ] && run="^TestNotebooks$/$1"
start=$(date +%s)
go test -count=1 -timeout 45m -v -run "$run" ./notebooks/
echo "notebooks-test: $(( $(date +%s) - start )) s in all"
