#!/usr/bin/env bash
# The CPU reproduction of the paper's Table 1 (issue 13; results/PROTOCOL.md says what and why). Every job
# is resumable: run the script again and each search continues from its log in results/, each finished
# job is skipped. Stop it with Ctrl-C (or kill the process group) at any time.
#
#   bash scripts/reproduction.sh            # the whole plan, SLOTS jobs at a time (default 2)
#   bash scripts/reproduction.sh list       # the jobs, in order, and whether each is done
#   bash scripts/reproduction.sh JOB...     # only these jobs, e.g. addnist/re-rn18/seed-1 baseline/multnist
#   BASELINE_PROCS=2 bash scripts/reproduction.sh baseline/addnist   # a baseline alone on both cores
#
# Each job runs on one core (GOMAXPROCS=1): two one-core trainings side by side train ResNet-18 at
# 101 images/s together on a 2-core Zen 3, one two-core training at 80 (docs/BENCHMARKS.md).
# Searches write only logs (config.json, evaluations.jsonl, final.json) under results/; the baselines'
# checkpoints stay in $WORK (default ~/.cache/einspace/reproduction), and their records are copied to
# results/baseline/ when they finish. Afterwards: bash scripts/reproduction-report.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SLOTS=${SLOTS:-2}
# A baseline keeps its checkpoints out of results/, so it resumes only on the machine that started it: run
# it where it can finish in one sitting, with BASELINE_PROCS=2 alone on a 2-core machine. It trains 8 epochs
# of 45,000 images and validates on 15,000 after each. AddNIST's took 71 minutes on a Zen 4 EPYC (2026-12-03),
# with the test suite running beside it for its first four epochs (9-12 minutes each) and alone for the last
# four (7 minutes each: about 56 minutes for the whole run alone). MultNIST's (50,000 images, 10,000 for
# validation) took 87 minutes on the same machine model, with the test suite and benchmarks beside it for
# most of its epochs (9-15 minutes each; 9 alone). Session 6's Intel machine, with 10-30% steal time, trained
# ResNet-18 at about 37 images/s, which would have made it about 2.7 hours.
BASELINE_PROCS=${BASELINE_PROCS:-1}
WORK=${WORK:-$HOME/.cache/einspace/reproduction}
RESULTS=results
# The jobs run a binary of their own, so that rebuilding bin/einspace while they run changes nothing.
BIN=$WORK/bin/einspace

# The protocol (results/PROTOCOL.md): the same for every method.
PROTOCOL=(--subset 4000 --val 1000 --test -1 --epochs 2 --batch 64 --lr 0.04 --full-flops 260560896
  --max-seconds 900 --final-epochs 4 --max-params 22421120 --max-flops 601183744 --population 8 --tournament 3 --budget 24
  --workers 1 --in-flight 1 --seed-cache "$RESULTS/seed-cache" --quiet)

# jobs lists the plan, results/PLAN (what is run and in what order, and why, is said there; the report
# reads the same file), one job per line, trimmed as the report trims it.
jobs() {
  sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$RESULTS/PLAN" | grep -v -e '^#' -e '^$'
}

done_job() {
  case "$1" in
    baseline/*) [ -s "$RESULTS/$1/result.json" ] ;;
    *) [ -s "$RESULTS/$1/final.json" ] ;;
  esac
}

run_job() {
  local job=$1 log
  if done_job "$job"; then echo "$job: done"; return 0; fi
  mkdir -p "$WORK/logs/$(dirname "$job")"
  log="$WORK/logs/$job.log"
  echo "$job: started $(date -u +%FT%TZ), log $log"
  case "$job" in
    baseline/*)
      local ds=${job#baseline/}
      mkdir -p "$WORK/baseline"
      GOMAXPROCS=$BASELINE_PROCS "$BIN" train resnet18 --dataset "$ds" --epochs 8 --save "$WORK/$job" --resume --format json \
        > "$WORK/$job.result.json.tmp" 2>"$log" || { echo "$job: FAILED, see $log"; return 1; }
      mkdir -p "$RESULTS/$job"
      cp "$WORK/$job/train.json" "$RESULTS/$job/train.json"
      mv "$WORK/$job.result.json.tmp" "$RESULTS/$job/result.json"
      ;;
    *)
      local ds method seed init strategy extra=()
      IFS=/ read -r ds method seed <<<"$job"
      seed=${seed#seed-}
      case "$method" in
        rn18) strategy=re init=resnet18 extra=(--population 1 --tournament 1 --budget 1) ;;
        random) strategy=random init=scratch ;;
        re-scratch) strategy=re init=scratch ;;
        re-rn18) strategy=re init=resnet18 ;;
        re-mix) strategy=re init=mix ;;
        *) echo "unknown method $method" >&2; return 2 ;;
      esac
      GOMAXPROCS=1 "$BIN" search --out "$RESULTS/$job" --dataset "$ds" --strategy "$strategy" --init "$init" \
        --seed "$seed" "${PROTOCOL[@]}" "${extra[@]}" >"$log" 2>&1 || { echo "$job: FAILED, see $log"; return 1; }
      ;;
  esac
  echo "$job: finished $(date -u +%FT%TZ)"
}

case "${1:-}" in
  list)
    for j in $(jobs); do
      if done_job "$j"; then state=done
      elif [ -s "$RESULTS/$j/evaluations.jsonl" ]; then state="$(wc -l <"$RESULTS/$j/evaluations.jsonl") records"
      else state=pending
      fi
      printf '%-12s %s\n' "$state" "$j"
    done
    ;;
  "")
    go build -o "$BIN" ./cmd/einspace
    export -f run_job done_job
    export RESULTS WORK BIN BASELINE_PROCS
    export PROTOCOL_STR="${PROTOCOL[*]}"
    jobs | xargs -P "$SLOTS" -I{} bash -c 'PROTOCOL=($PROTOCOL_STR); run_job "$@"' _ {}
    ;;
  *)
    go build -o "$BIN" ./cmd/einspace
    for j in "$@"; do run_job "$j"; done
    ;;
esac
