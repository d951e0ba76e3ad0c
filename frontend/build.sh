#!/usr/bin/env bash
# Copy the bpmn-js viewer (pinned in package.json / package-lock.json) into the portal's static files.
# The copied files are committed, so the portal itself never needs Node; run this only to change the version:
#   cd frontend && npm ci && ./build.sh
set -euo pipefail
cd "$(dirname "$0")"

src=node_modules/bpmn-js/dist
dest=../portal/static/vendor/bpmn-js
if [ ! -f "$src/bpmn-viewer.production.min.js" ]; then
  echo "bpmn-js is not installed: run 'npm ci' in frontend/ first" >&2
  exit 1
fi

rm -rf "$dest"
mkdir -p "$dest/assets/bpmn-font/css" "$dest/assets/bpmn-font/font"
cp "$src/bpmn-viewer.production.min.js" "$dest/"
cp "$src/assets/diagram-js.css" "$src/assets/bpmn-js.css" "$dest/assets/"
# The icon font (used by bpmn-js for some markers); its CSS points at ../font/.
cp "$src/assets/bpmn-font/css/bpmn.css" "$dest/assets/bpmn-font/css/"
cp "$src/assets/bpmn-font/font/"* "$dest/assets/bpmn-font/font/"
cp node_modules/bpmn-js/LICENSE "$dest/LICENSE"
version=$(node -p "require('./node_modules/bpmn-js/package.json').version")
echo "$version" > "$dest/VERSION"
echo "bpmn-js $version copied to $dest"
