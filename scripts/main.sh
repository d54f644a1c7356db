#!/usr/bin/env bash
# The project's main command (README). Today it builds the einspace command line into bin/ and tours the
# grammar with it; the notebooks and the Jupyter set-up join it as they land (see README, "Status").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

go build -o bin/einspace ./cmd/einspace
echo "built bin/einspace ($(go version -m bin/einspace | awk '/GOEXPERIMENT|X:simd/ {print; exit}'))"
echo
for seed in resnet18 wrn16_4 vit mlp_mixer; do
  printf '%-10s %s, %s\n' "$seed" "$(bin/einspace show "$seed" | grep '^parameters')" "$(bin/einspace show "$seed" | grep '^output')"
done
echo
echo "three samples at 3x28x28, p(computation) = 0.32, seed 1:"
bin/einspace sample -n 3 --seed 1
echo
echo "a mutation of a 3x3 convolution block, seed 7:"
bin/einspace mutate --seed 7 'sequential(routing[im2col3k1s1p, computation<linear64>, col2im], computation<leakyrelu>)'
