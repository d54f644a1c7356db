#!/usr/bin/env bash
# The report of the Table 1 reproduction (issue 13), redrawn from results/ at any time, whether its runs
# have finished or not: docs/REPRODUCTION.md and, per dataset, a chart page docs/img/reproduction-<dataset>.html
# (`einspace reproduction`), rendered to the picture the page shows, docs/img/reproduction-<dataset>.png,
# in Debian's Chromium (browser/screenshot.mjs over playwright-core, which never downloads a browser).
# The chart pages inline the ECharts bundle, so they are not committed (.gitignore); the pictures are.
#
#   bash scripts/reproduction-report.sh
#   RESULTS=results OUT=out/check/REPRODUCTION.md FIGURES=out/check/img bash scripts/reproduction-report.sh
# With the default OUT it also writes the table into the README, between its reproduction-table markers.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

RESULTS=${RESULTS:-results}
OUT=${OUT:-docs/REPRODUCTION.md}
FIGURES=${FIGURES:-docs/img}

# A binary of its own: bin/einspace may be serving a reproduction in progress (scripts/reproduction.sh),
# whose searches start their worker processes from it.
bin=out/reproduction-report/einspace
go build -o "$bin" ./cmd/einspace
# The README's copy of the table is rewritten only with the default report (README= to skip it).
readme=()
if [ "$OUT" = docs/REPRODUCTION.md ] && [ -n "${README-README.md}" ]; then
  readme=(--readme "${README-README.md}")
fi
"$bin" reproduction --results "$RESULTS" --out "$OUT" --figures "$FIGURES" "${readme[@]}"

if [ ! -d browser/node_modules/playwright-core ]; then
  (cd browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
for page in "$FIGURES"/reproduction-*.html; do
  node browser/screenshot.mjs "$page" "${page%.html}.png"
done
