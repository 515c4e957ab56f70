#!/usr/bin/env bash
# System packages for `make dist` and the packaging check (Debian/Ubuntu):
# python3 (archives), binutils (strip), dpkg-dev (dpkg-shlibdeps for the relay
# package), a virtual X server, screenshots, xdotool and python3-xlib (typing
# into and closing the real window), strace (every file the portable app
# writes), desktop-file-utils and appstream (validating the menu entry and the
# metainfo).
set -euo pipefail
packages=(python3 binutils dpkg-dev xvfb xauth imagemagick curl xdotool python3-xlib strace desktop-file-utils appstream)
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "Not a Debian system. Install the equivalents of: ${packages[*]}" >&2
    exit 0
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
