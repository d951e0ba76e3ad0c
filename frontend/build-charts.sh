#!/usr/bin/env bash
# Bundle the chart library of the operations centre (src/charts.js: Chart.js, version pinned in package.json /
# package-lock.json) into the portal's static files. The output is committed, so the portal never needs Node;
# run this only after changing src/charts.js or the version:
#   cd frontend && npm ci && npm run build:charts
set -euo pipefail
cd "$(dirname "$0")"

dest=../portal/static/vendor/chartjs
if [ ! -x node_modules/.bin/esbuild ]; then
  echo "esbuild is not installed: run 'npm ci' in frontend/ first" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
# One IIFE exposing window.MotCuaCharts.Chart; no eval, so the portal's strict CSP holds (Chart.js draws on a
# canvas and sets sizes through the CSSOM, which style-src 'self' allows).
node_modules/.bin/esbuild src/charts.js --bundle --minify --format=iife --global-name=MotCuaCharts \
  --target=es2019 --legal-comments=external --outfile="$dest/chart.min.js"
if grep -q 'eval(\|new Function' "$dest/chart.min.js"; then
  echo "build-charts.sh: the bundle uses eval or new Function, which the portal's CSP forbids" >&2
  exit 1
fi
cp node_modules/chart.js/LICENSE.md "$dest/LICENSE.md"
node -p "'chart.js ' + require('./node_modules/chart.js/package.json').version" > "$dest/VERSIONS"
echo "chart bundle written to $dest"
