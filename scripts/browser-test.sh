#!/usr/bin/env bash
# The browser tests (part of scripts/test.sh): a real Jupyter Notebook server with the "einspace" kernel,
# Debian's Chromium driven by playwright-core (npm, pinned in browser/package-lock.json; it never downloads a
# browser), every notebook run through the UI, every chart checked, screenshots in out/browser/.
#
#   bash scripts/browser-test.sh                         # all notebooks (about 3 minutes warm)
#   NOTEBOOKS=05-teaching-nas.ipynb bash scripts/browser-test.sh
#   bash scripts/browser-test.sh --refresh-docs          # also rewrite the README's pictures in docs/img/
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

if [ "${1:-}" = "--refresh-docs" ]; then
  export REFRESH_DOCS=1
fi
# Kept architectures of the notebooks go to a scratch folder, not the user's cache.
export EINSPACE_KEPT="${EINSPACE_KEPT:-$(mktemp -d)}"
cd browser
if [ ! -d node_modules/playwright-core ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
node --test --test-concurrency=1 notebooks.test.mjs
