#!/usr/bin/env bash
# System packages for `make dist` and the packaging check (Debian/Ubuntu):
# python3 (archives), binutils (strip), a virtual X server, screenshots.
set -euo pipefail
packages=(python3 binutils xvfb xauth imagemagick curl)
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
