#!/usr/bin/env bash
# Copy the Swagger UI viewer (swagger-ui-dist, pinned in package.json / package-lock.json) into the portal's static
# files, for the API reference page at /api/v1/docs (portal/api/docs.py). The copied files are committed, so the
# portal never needs Node or a CDN; run this only to change the version:
#   cd frontend && npm ci && npm run build:api-docs
set -euo pipefail
cd "$(dirname "$0")"

src=node_modules/swagger-ui-dist
dest=../portal/static/vendor/swagger-ui
if [ ! -f "$src/swagger-ui-bundle.js" ]; then
  echo "swagger-ui-dist is not installed: run 'npm ci' in frontend/ first" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest"
# The bundle carries its own start-up code in no inline script: the page loads portal/static/js/api-docs.js,
# so the portal's strict CSP (script-src 'self') holds.
cp "$src/swagger-ui-bundle.js" "$src/swagger-ui.css" "$src/LICENSE" "$src/NOTICE" "$dest/"
node -p "'swagger-ui-dist ' + require('./$src/package.json').version" > "$dest/VERSIONS"
echo "swagger-ui written to $dest"
