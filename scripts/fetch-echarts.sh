#!/usr/bin/env bash
# Fetches the ECharts JavaScript bundle (Apache-2.0, npm package "echarts") into the repository's ignored
# cache, .cache/echarts/echarts.min.js, where viz.EChartsJS finds it. The bundle is third-party code: it is
# fetched at set-up time with npm and never committed. Idempotent: a cached bundle of the right version is
# kept as it is.
#
#   bash scripts/fetch-echarts.sh            # into <repo>/.cache/echarts/
#   ECHARTS_DIR=/some/dir bash scripts/fetch-echarts.sh
set -euo pipefail
version=5.6.0
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${ECHARTS_DIR:-$repo/.cache/echarts}"
dest="$dir/echarts.min.js"

has_version() { [ -s "$1" ] && grep -q "version=\"$version\"" "$1"; }

if has_version "$dest"; then
  echo "echarts $version already in $dest"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-echarts: npm is needed (Debian: apt-get install -y --no-install-recommends npm)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "echarts@$version" >/dev/null)
tar -xzf "$tmp/echarts-$version.tgz" -C "$tmp" package/dist/echarts.min.js
if ! has_version "$tmp/package/dist/echarts.min.js"; then
  echo "fetch-echarts: the bundle in echarts-$version.tgz does not carry version $version" >&2
  exit 1
fi
mkdir -p "$dir"
mv "$tmp/package/dist/echarts.min.js" "$dest.part"
mv "$dest.part" "$dest"
echo "echarts $version fetched into $dest ($(wc -c <"$dest") bytes)"
