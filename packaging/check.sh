#!/usr/bin/env bash
# `make check-dist`: checks what `make dist` put in dist/, as a user and an
# operator would (Debian, as root; logs and screenshots in dist/check/):
#  1. the app's .deb: installed with apt; its files, menu entry, metainfo and
#     declared libraries checked; /usr/bin/natter started under Xvfb on a
#     fresh HOME: the bundled relay answers, the sign-in screen draws, the
#     window closes cleanly;
#  2. the relay's .deb: installed with apt; its files, conffile, `natter`
#     user, directory modes and unit checked; the relay run as the unit runs
#     it (its user, its config) on loopback: /healthz, /metrics, an account,
#     the admin CLI, JSON logs, SIGTERM;
#  3. the portable .tar.gz (English) and .zip (Chinese): unpacked, started
#     from another folder on a fresh HOME, an account registered through the
#     window, the window closed; every file the app changed (strace) is
#     inside the unpacked folder;
#  4. both packages purged: their files go, the relay's data and user stay.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
here="$root/packaging/check"
out="$root/dist/check"
rm -rf "$out" && mkdir -p "$out"
[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo make check-dist): it installs packages and starts the relay as its own user" >&2; exit 1; }
# shellcheck source=check/lib.sh
source "$here/lib.sh"
source "$here/app-deb.sh"
source "$here/relay-deb.sh"
source "$here/portable.sh"

app_deb=$(ls dist/natter_*.deb 2>/dev/null | head -1)
relay_deb=$(ls dist/natter-relay_*.deb 2>/dev/null | head -1)
tgz=$(ls dist/natter-*-linux-*.tar.gz 2>/dev/null | head -1)
zip=$(ls dist/natter-*-linux-*.zip 2>/dev/null | head -1)
[ -n "$app_deb" ] && [ -n "$relay_deb" ] && [ -n "$tgz" ] && [ -n "$zip" ] \
    || fail "run make dist first (dist/ has: $(ls dist 2>/dev/null | tr '\n' ' '))"

pids=()
# Every temporary folder (unpacked archives, fresh HOMEs) lives in $work.
work=$(mktemp -d)
cleanup() { local p; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# A virtual screen larger than the app's default 1000x680 window; no window
# manager, so the window sits at 0,0 at its own size.
display=$((100 + RANDOM % 100))
while [ -e "/tmp/.X11-unix/X$display" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1100x760x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=":$display"
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done

# Start from packages not installed, so the checks see a first installation
# of exactly these files (a same-version .deb would not replace them).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' natter natter-relay 2>/dev/null | awk '/ installed$/ {print $1}' || true)
if [ -n "$installed" ]; then
    echo "== purging the installed $(echo $installed) first"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $installed >"$out/apt-purge-before.log" 2>&1 \
        || { cat "$out/apt-purge-before.log"; fail "apt-get purge $installed"; }
fi

passed=0
check_app_deb "$app_deb"; passed=$((passed + 1))
check_relay_deb "$relay_deb"; passed=$((passed + 1))
check_portable "$tgz" tgz en-US Natter; passed=$((passed + 1))
check_portable "$zip" zip zh-CN 闲聊; passed=$((passed + 1))
check_purge; passed=$((passed + 1))
echo "packaging check: $passed passed, 0 failed"
