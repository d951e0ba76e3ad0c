#!/usr/bin/env bash
# Copy the Leaflet map library (version pinned below, checked against the registry's integrity hash) into the
# portal's static files, for the public map of field reports (portal/static/js/reports-map.js). The copied files
# are committed, so the portal never needs Node or a CDN; run this only to change the version:
#   cd frontend && ./build-leaflet.sh   (or npm run build:leaflet)
# Leaflet is a plain script (no bundling needed): it is fetched with `npm pack` into a temporary folder rather
# than added to package.json, so the other bundles' lock file is left alone.
set -euo pipefail
cd "$(dirname "$0")"

version=1.9.4
# `npm view leaflet@1.9.4 dist.integrity`; a different tarball under the same version stops the build.
integrity="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
dest=../portal/static/vendor/leaflet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "leaflet@$version" > /dev/null)
tarball="$tmp/leaflet-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "build-leaflet.sh: leaflet-$version.tgz has integrity $actual, expected $integrity" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp"
src="$tmp/package/dist"
if grep -q 'eval(\|new Function' "$src/leaflet.js"; then
  echo "build-leaflet.sh: leaflet.js uses eval or new Function, which the portal's CSP forbids" >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest/images"
# leaflet.css finds its marker and layer icons in images/ next to it (url(images/...)), all served from 'self'.
cp "$src/leaflet.js" "$src/leaflet.css" "$dest/"
sed -i '/^\/\/# sourceMappingURL=/d' "$dest/leaflet.js"  # the source map is not copied
cp "$src"/images/*.png "$dest/images/"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
echo "leaflet $version" > "$dest/VERSIONS"
echo "leaflet written to $dest"
