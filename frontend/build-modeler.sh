#!/usr/bin/env bash
# Bundle the admin modeler (src/modeler.js: bpmn-js + properties panel + Camunda 7 moddle, versions pinned in
# package.json / package-lock.json) into the portal's static files. The output is committed, so the portal
# itself never needs Node; run this only after changing src/modeler.js or a version:
#   cd frontend && npm ci && npm run build:modeler
set -euo pipefail
cd "$(dirname "$0")"

dest=../portal/static/vendor/bpmn-modeler
if [ ! -x node_modules/.bin/esbuild ]; then
  echo "esbuild is not installed: run 'npm ci' in frontend/ first" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest/assets/bpmn-font/css" "$dest/assets/bpmn-font/font"
# One IIFE exposing window.MotCuaModeler.createModeler; no eval, so the portal's strict CSP holds.
node_modules/.bin/esbuild src/modeler.js --bundle --minify --format=iife --global-name=MotCuaModeler \
  --target=es2019 --legal-comments=external --outfile="$dest/bpmn-modeler.min.js"
# The portal's Content-Security-Policy forbids inline style attributes (style-src 'self'). The properties panel
# builds its container from HTML with style="height: 100%", which the browser refuses (and reports); drop it
# here, admin.css sets the same height. Fail loudly if a new version changed that markup.
bundle="$dest/bpmn-modeler.min.js"
grep -q '<div style="height: 100%" tabindex="-1" class="bio-properties-panel-container">' "$bundle" || {
  echo "build-modeler.sh: the properties panel container markup changed; check the CSP patch" >&2
  exit 1
}
sed -i 's/<div style="height: 100%" tabindex="-1" class="bio-properties-panel-container">/<div tabindex="-1" class="bio-properties-panel-container">/' "$bundle"
# (The align/distribute menu's SVG icons also carry style attributes; the browser ignores those under the CSP,
# which only thins their strokes. They are left as they are.)
cp node_modules/bpmn-js/dist/assets/diagram-js.css node_modules/bpmn-js/dist/assets/bpmn-js.css "$dest/assets/"
cp node_modules/bpmn-js/dist/assets/bpmn-font/css/bpmn.css "$dest/assets/bpmn-font/css/"
cp node_modules/bpmn-js/dist/assets/bpmn-font/font/* "$dest/assets/bpmn-font/font/"
cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css "$dest/assets/"
cp node_modules/bpmn-js-properties-panel/dist/assets/element-templates.css "$dest/assets/" 2>/dev/null || true
versions=$(node -p "['bpmn-js','bpmn-js-properties-panel','@bpmn-io/properties-panel','camunda-bpmn-moddle','camunda-bpmn-js-behaviors'].map(n => n + ' ' + require('./node_modules/' + n + '/package.json').version).join('\n')")
echo "$versions" > "$dest/VERSIONS"
echo "modeler bundle written to $dest"
