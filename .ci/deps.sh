#!/usr/bin/env bash
# Installs the system packages that building and testing Natter needs.
# Debian/Ubuntu: installs what is missing with apt-get. Elsewhere: prints them.
set -euo pipefail

# Build: a C toolchain for -sys crates. Run: the X11/Wayland client libraries
# winit loads at run time, an open-licence CJK font so Chinese renders, and the
# colour emoji font the text engine falls back to for emoji.
# Calls: ALSA headers (cpal), cmake (libopus), libclang (V4L2 bindings for nokhwa),
# nasm (OpenH264 SIMD).
# Screen sharing (xcap): PipeWire and SPA headers (Wayland screencast), libgbm
# (Wayland capture buffers), XCB's RandR headers (X11 monitors), Wayland client headers.
# Screen-sharing tests: Xvfb and ImageMagick (a known picture on a private display).
# Relay tests: PostgreSQL, nats-server and haproxy (the tests start their own
# instances on loopback in temp dirs). Bad-network tests: nftables and iproute2
# (loss, duplication and blackouts on `lo` inside a namespace of their own) and
# util-linux's unshare.
packages=(pkg-config build-essential libasound2-dev cmake libclang-dev nasm libpipewire-0.3-dev libspa-0.2-dev libgbm-dev libxcb1-dev libxcb-randr0-dev libwayland-dev xvfb imagemagick libxkbcommon-x11-0 libx11-6 libxcursor1 libxrandr2 libxi6 libwayland-client0 fonts-wqy-microhei fonts-noto-color-emoji postgresql nats-server haproxy nftables iproute2 util-linux)

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "Not a Debian system. Install the equivalents of: ${packages[*]}" >&2
    exit 0
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
