#!/usr/bin/env bash
# Set-up for the test command (scripts/test.sh), idempotent: Debian packages the tests use when missing
# (apt, as root) — Chromium for the chart screenshot test, Jupyter pieces for the notebooks, PyTorch with
# OpenBLAS for the cross-check against an independent implementation (without libopenblas0-pthread Debian's
# PyTorch links the reference BLAS, 10x slower), python3-onnx to check exported ONNX models — then
# scripts/setup-notebooks.sh: the ECharts bundle, GoNB and goimports at pinned versions, and the Jupyter
# kernel "einspace" for this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

packages=(chromium python3-torch libopenblas0-pthread python3-onnx jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel is registered for this checkout every time: one left by another checkout would run its code.
bash scripts/setup-notebooks.sh --skip-apt

# The browser tests' driver, playwright-core at the version in browser/package-lock.json (no browser
# download: the tests use Debian's Chromium).
(cd browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

# ONNX Runtime for Node.js at the version in export/testdata/ort/package-lock.json: the independent runtime the
# export tests run exported ONNX models in. Its CPU runtime ships inside the npm package; --ignore-scripts skips
# its install script, which would fetch the CUDA provider from elsewhere.
(cd export/testdata/ort && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
