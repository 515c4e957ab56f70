#!/usr/bin/env bash
# Renders every icon from natter.svg (the one source): PNGs at the usual sizes
# (Linux hicolor theme, cargo-packager), natter.ico (Windows) and natter.icns
# (macOS). The outputs are committed, so packaging needs none of these tools;
# run this after changing the SVG. Debian: apt-get install librsvg2-bin
# imagemagick icnsutils.
set -euo pipefail
cd "$(dirname "$0")"
for s in 16 32 48 64 128 256 512; do
    rsvg-convert -w "$s" -h "$s" natter.svg -o "natter-$s.png"
done
convert natter-16.png natter-32.png natter-48.png natter-64.png natter-128.png natter-256.png natter.ico
png2icns natter.icns natter-16.png natter-32.png natter-128.png natter-256.png natter-512.png >/dev/null
ls -l natter-*.png natter.ico natter.icns
