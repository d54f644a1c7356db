#!/usr/bin/env bash
# Executes every notebook of notebooks/ headless with the Jupyter kernel "einspace" and writes, into an
# output folder (default out/notebooks/, ignored by git), the executed copy and its HTML export of each,
# then prints each notebook's wall time. Run directories and other results go to a fresh folder inside
# it (EINSPACE_NOTEBOOK_RESULTS), so nothing is resumed from an earlier run.
#
#   bash scripts/run-notebooks.sh                          # all notebooks
#   bash scripts/run-notebooks.sh 01-grammar-tour.ipynb    # some of them
#   OUT_DIR=/tmp/nb bash scripts/run-notebooks.sh
#
# Needs the kernel and the ECharts bundle: bash scripts/setup-notebooks.sh. Exits non-zero when a
# notebook fails (a cell error stops that notebook; the others still run).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
source scripts/env.sh
export GOFLAGS= # the kernel builds cells in workspace mode, where -mod=mod is refused

py=/usr/bin/python3
out="${OUT_DIR:-$repo/out/notebooks}"
if ! "$py" -c 'import nbconvert, nbclient' 2>/dev/null; then
  echo "run-notebooks: $py cannot import nbconvert/nbclient: bash scripts/setup-notebooks.sh" >&2; exit 1
fi
if ! "$py" -m jupyter kernelspec list 2>/dev/null | awk '{print $1}' | grep -qx einspace; then
  echo "run-notebooks: the Jupyter kernel \"einspace\" is not installed: bash scripts/setup-notebooks.sh" >&2; exit 1
fi
if [ ! -s "$repo/.cache/echarts/echarts.min.js" ] && [ ! -s "${EINSPACE_ECHARTS:-}" ]; then
  echo "run-notebooks: warning: no ECharts bundle in $repo/.cache/echarts/ (bash scripts/fetch-echarts.sh): charts will fail" >&2
fi

if [ $# -gt 0 ]; then
  notebooks=("$@")
else
  notebooks=()
  for f in notebooks/*.ipynb; do notebooks+=("$(basename "$f")"); done
fi

mkdir -p "$out"
export EINSPACE_NOTEBOOK_RESULTS="$out/results"
rm -rf "$EINSPACE_NOTEBOOK_RESULTS"
mkdir -p "$EINSPACE_NOTEBOOK_RESULTS"

status=0
timings=()
total_start=$(date +%s.%N)
for nb in "${notebooks[@]}"; do
  nb="$(basename "$nb")"
  src="notebooks/$nb"
  [ -f "$src" ] || { echo "run-notebooks: no notebook $src" >&2; status=1; continue; }
  echo "== $nb"
  start=$(date +%s.%N)
  if (cd notebooks && "$py" -m jupyter nbconvert --to notebook --execute \
        --ExecutePreprocessor.kernel_name=einspace --ExecutePreprocessor.timeout=1800 \
        --output-dir "$out" "$nb" 2> "$out/${nb%.ipynb}.log"); then
    result=ok
  else
    result=FAILED
    status=1
    echo "   failed: see $out/${nb%.ipynb}.log"; tail -n 20 "$out/${nb%.ipynb}.log" | grep -v '^I[0-9]' || true
  fi
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  if [ -f "$out/$nb" ]; then
    # The kernel reports no lexer: without "go" nbconvert highlights the code as Python.
    "$py" - "$out/$nb" <<'PY'
import json, sys
p = sys.argv[1]
nb = json.load(open(p))
nb.setdefault("metadata", {}).setdefault("language_info", {})["pygments_lexer"] = "go"
nb["metadata"]["language_info"].setdefault("name", "go")
json.dump(nb, open(p, "w"), indent=1, ensure_ascii=False)
PY
    "$py" -m jupyter nbconvert --to html "$out/$nb" --output-dir "$out" 2>>"$out/${nb%.ipynb}.log" || { status=1; echo "   HTML export failed"; }
  fi
  line=$(printf "%-34s %-6s %7.1f s" "$nb" "$result" "$secs")
  echo "   $line"
  timings+=("$line")
done
echo
echo "== timings (executed copies and HTML in $out)"
printf '%s\n' "${timings[@]}"
printf "%-41s %7.1f s\n" "total" "$(awk -v a="$total_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
exit $status
