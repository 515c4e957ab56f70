#!/usr/bin/env bash
# Checks what `make dist` put in dist/, as a user would (Debian, as root or
# with sudo):
#  1. installs the .deb with apt, checks its files, starts /usr/bin/natter
#     under Xvfb on a fresh HOME: the bundled relay must answer and the
#     sign-in screen must draw (screenshot in dist/check/);
#  2. unpacks the portable .tar.gz and .zip, starts the app from the folder on
#     a fresh HOME, registers an account on its bundled relay, quits, and checks
#     that everything written is inside the folder and nothing under HOME.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out="$root/dist/check"
rm -rf "$out" && mkdir -p "$out"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
fail() { echo "packaging check FAILED: $*" >&2; exit 1; }
deb=$(ls dist/natter_*.deb 2>/dev/null | head -1)
tgz=$(ls dist/natter-*-linux-*.tar.gz 2>/dev/null | head -1)
zip=$(ls dist/natter-*-linux-*.zip 2>/dev/null | head -1)
[ -n "$deb" ] && [ -n "$tgz" ] && [ -n "$zip" ] || fail "run make dist first (dist/ has: $(ls dist 2>/dev/null | tr '\n' ' '))"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

display=$((100 + RANDOM % 100))
Xvfb ":$display" -screen 0 1100x760x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=":$display"
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done

wait_health() { # URL SECONDS
    for _ in $(seq $(($2 * 5))); do
        if curl -fsS "$1/healthz" >"$out/health.json" 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    return 1
}

# A screenshot that is not one flat colour, with enough colours for text.
check_drawn() { # NAME
    local shot="$out/$1.png"
    /usr/bin/import -window root "$shot"
    local colours
    colours=$(/usr/bin/identify -format '%k' "$shot")
    echo "$1: screenshot $shot, $colours colours"
    [ "$colours" -gt 50 ] || fail "$1: the window did not draw ($colours colours)"
}

echo "== 1. the .deb: $deb"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "./$deb" >"$out/apt.log" 2>&1 || { cat "$out/apt.log"; fail "apt install"; }
for f in /usr/bin/natter /usr/share/applications/natter.desktop \
         /usr/share/icons/hicolor/128x128/apps/natter.png \
         /usr/share/metainfo/io.natter.Natter.metainfo.xml; do
    [ -e "$f" ] || fail "the package did not install $f (it has: $(dpkg -L natter | tr '\n' ' '))"
done
version=$(/usr/bin/natter --version)
echo "installed: $version"
[[ "$version" == "natter "* ]] || fail "natter --version said: $version"

home=$(mktemp -d)
port=$(free_port)
env -i PATH=/usr/bin:/bin HOME="$home" DISPLAY="$DISPLAY" LANG=C.UTF-8 NATTER_MEDIA_BIND=127.0.0.1 \
    /usr/bin/natter --server "http://127.0.0.1:$port" --lang en-US >"$out/deb-app.log" 2>&1 &
app=$!
pids+=($app)
wait_health "http://127.0.0.1:$port" 30 || { cat "$out/deb-app.log"; fail "the installed app's bundled relay does not answer"; }
echo "bundled relay: $(cat "$out/health.json")"
sleep 3
check_drawn deb-sign-in
kill "$app"; wait "$app" 2>/dev/null || true
[ -d "$home/.local/share/natter/profiles/default" ] || fail "the installed app kept no data in ~/.local/share/natter"
rm -rf "$home"

check_portable() { # ARCHIVE KIND
    local dir home port app name
    dir=$(mktemp -d); home=$(mktemp -d)
    case "$2" in
        tgz) tar -xzf "$1" -C "$dir" ;;
        zip) python3 -m zipfile -e "$1" "$dir"; chmod +x "$dir"/*/natter "$dir"/*/natter-server ;;
    esac
    name=$(basename "$(ls -d "$dir"/*/)")
    local folder="$dir/$name"
    [ -f "$folder/portable" ] || fail "$2: no portable marker"
    touch "$out/start-$2"
    port=$(free_port)
    env -i PATH=/usr/bin:/bin HOME="$home" DISPLAY="$DISPLAY" LANG=C.UTF-8 NATTER_MEDIA_BIND=127.0.0.1 \
        "$folder/natter" --server "http://127.0.0.1:$port" --lang zh-CN >"$out/portable-$2.log" 2>&1 &
    app=$!
    pids+=($app)
    wait_health "http://127.0.0.1:$port" 30 || { cat "$out/portable-$2.log"; fail "$2: the bundled relay does not answer"; }
    curl -fsS -X POST -H 'content-type: application/json' \
        -d '{"account":"portable1","password":"portable-password","nickname":"P"}' \
        "http://127.0.0.1:$port/v1/auth/register" >/dev/null || fail "$2: cannot register"
    sleep 2
    check_drawn "portable-$2"
    kill "$app"; wait "$app" 2>/dev/null || true
    [ -f "$folder/data/relay/natter.redb" ] || fail "$2: the relay's data is not in the folder"
    [ -d "$folder/data/profiles/default" ] || fail "$2: the profile is not in the folder ($(ls "$folder/data"))"
    local under_home
    under_home=$(find "$home" -mindepth 1 | head -20)
    [ -z "$under_home" ] || fail "$2: wrote under HOME: $under_home"
    echo "$2: everything written is under $folder/data:"
    find "$folder/data" -maxdepth 2 | sed "s|$folder/||"
    rm -rf "$dir" "$home"
}
echo "== 2. portable: $tgz, $zip"
check_portable "$tgz" tgz
check_portable "$zip" zip
echo "packaging check: 2 passed, 0 failed"
