#!/usr/bin/env bash
# The project's main command (README): sets up a fresh Debian machine for the notebooks and starts Jupyter
# on notebooks/. Set-up (idempotent, a second run only checks): Debian's Jupyter pieces (apt, as root), the
# ECharts bundle (npm, into the ignored .cache/), GoNB and goimports at pinned versions, and the Jupyter
# kernel "einspace" for this checkout; it also builds bin/einspace.
#
#   bash scripts/main.sh                 # then open the printed address and pick a notebook
#   bash scripts/main.sh --setup-only    # set up, build, and stop there
#   PORT=8890 bash scripts/main.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bash scripts/setup-notebooks.sh
go build -o bin/einspace ./cmd/einspace
echo "built bin/einspace"
if [ "${1:-}" = "--setup-only" ]; then
  exit 0
fi
echo "starting Jupyter on notebooks/ (kernel \"einspace\"); Ctrl-C stops it"
exec jupyter notebook --no-browser --ip=127.0.0.1 --port="${PORT:-8888}" --notebook-dir=notebooks --allow-root
