#!/usr/bin/env bash
# Re-renders the committed PNG, ICO (Windows) and ICNS (macOS) icons from wsserve.svg.
# Not run by the build. Needs librsvg2-bin, imagemagick and icnsutils (png2icns).
set -euo pipefail
cd "$(dirname "$0")"
for size in 16 32 48 64 128 256; do
    rsvg-convert -w "$size" -h "$size" wsserve.svg -o "wsserve-$size.png"
done
/usr/bin/convert wsserve-16.png wsserve-32.png wsserve-48.png wsserve-256.png wsserve.ico
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rsvg-convert -w 512 -h 512 wsserve.svg -o "$tmp/wsserve-512.png"
png2icns wsserve.icns "$tmp/wsserve-512.png" wsserve-256.png wsserve-128.png wsserve-32.png wsserve-16.png
