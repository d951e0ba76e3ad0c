#!/usr/bin/env bash
# Bundle the automatic layout (src/auto-layout.js: bpmn-auto-layout, version pinned in package.json /
# package-lock.json) for the diagram viewer, which loads it only for a file without a diagram layout. The admin
# modeler has the same code in its own bundle (build-modeler.sh). The output is committed, so the portal never
# needs Node; run this only after changing src/auto-layout.js or a version:
#   cd frontend && npm ci && npm run build:auto-layout
set -euo pipefail
cd "$(dirname "$0")"

dest=../portal/static/vendor/bpmn-auto-layout
if [ ! -x node_modules/.bin/esbuild ]; then
  echo "esbuild is not installed: run 'npm ci' in frontend/ first" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
# One IIFE exposing window.MotCuaAutoLayout.{hasLayout,layout}; no eval, so the portal's strict CSP holds.
node_modules/.bin/esbuild src/auto-layout.js --bundle --minify --format=iife --global-name=MotCuaAutoLayout \
  --target=es2019 --legal-comments=external --outfile="$dest/bpmn-auto-layout.min.js"
if grep -q 'eval(\|new Function' "$dest/bpmn-auto-layout.min.js"; then
  echo "build-auto-layout.sh: the bundle uses eval or new Function, which the portal's CSP forbids" >&2
  exit 1
fi
versions=$(node -p "['bpmn-auto-layout','bpmn-moddle'].map(n => n + ' ' + require('./node_modules/' + n + '/package.json').version).join('\n')")
echo "$versions" > "$dest/VERSIONS"
echo "auto-layout bundle written to $dest"
