#!/usr/bin/env bash
# Screenshots of the real app under Xvfb on the `make demo` history: bob
# (English) and alice (中文) in their chat, with replies, reactions, an edited
# message, a forwarded copy and mentions; the message menu open. Writes PNGs
# to $OUT (default /tmp/natter-shots).
#
#   bash app/bench/shots.sh                 # WIDTH=1280 THEME=light by default
#   WIDTH=360 THEME=dark bash app/bench/shots.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-/tmp/natter-shots}
WIDTH=${WIDTH:-1280}
HEIGHT=${HEIGHT:-800}
THEME=${THEME:-light}
SHOTS_HOME=${SHOTS_HOME:-/tmp/natter-shots-home}
RELAY=127.0.0.1:7983
DISPLAY_NUM=${DISPLAY_NUM:-:96}
TARGET=${CARGO_TARGET_DIR:-target}/debug

command -v Xvfb >/dev/null || { echo "needs Xvfb (Debian: apt-get install xvfb)" >&2; exit 1; }
command -v xdotool >/dev/null || { echo "needs xdotool" >&2; exit 1; }
cargo build -p natter -p natter-server --bins --example demo_seed
mkdir -p "$OUT"
rm -rf "$SHOTS_HOME" && mkdir -p "$SHOTS_HOME"

Xvfb "$DISPLAY_NUM" -screen 0 "${WIDTH}x${HEIGHT}x24" >/dev/null 2>&1 &
xvfb=$!
"$TARGET/natter-server" --bind $RELAY --data-dir "$SHOTS_HOME/relay" --turn-bind 127.0.0.1:0 \
    >"$SHOTS_HOME/relay.log" 2>&1 &
relay=$!
apps=()
trap 'kill ${apps[*]:-} $xvfb $relay 2>/dev/null || true' EXIT
sleep 1
NATTER_DEMO_THEME=$THEME NATTER_HOME=$SHOTS_HOME "$TARGET/examples/demo_seed" "http://$RELAY" >/dev/null

# Starts one app as `profile` in `lang`, full screen; prints its window id.
start() {
    local profile=$1 lang=$2
    DISPLAY=$DISPLAY_NUM ICED_BACKEND=tiny-skia NATTER_HOME=$SHOTS_HOME NATTER_MEDIA_BIND=127.0.0.1 \
        "$TARGET/natter" --profile "$profile" --server "http://$RELAY" --lang "$lang" \
        >"$SHOTS_HOME/$profile.log" 2>&1 &
    apps+=($!)
    local win=""
    for _ in $(seq 1 100); do
        win=$(DISPLAY=$DISPLAY_NUM xdotool search --name "Natter" 2>/dev/null | tail -1 || true)
        [ -n "$win" ] && break
        sleep 0.1
    done
    DISPLAY=$DISPLAY_NUM xdotool windowsize --sync "$win" "$WIDTH" "$HEIGHT" windowmove --sync "$win" 0 0
    DISPLAY=$DISPLAY_NUM xdotool windowfocus --sync "$win"
    sleep 2
    echo "$win"
}

shot() {
    DISPLAY=$DISPLAY_NUM import -window root "$OUT/$1.png"
    echo "wrote $OUT/$1.png"
}

click() { # x y [button]
    DISPLAY=$DISPLAY_NUM xdotool mousemove --sync "$1" "$2" sleep 0.2 click "${3:-1}"
    sleep 0.6
}

for who in "bob en-US" "alice zh-CN"; do
    set -- $who
    win=$(start "$1" "$2")
    # The first conversation in the list is the 1:1 chat (the newest).
    click 150 135
    shot "$1-$2-$WIDTH-$THEME-list"
    ${CLICKS:+eval "$CLICKS"}
    shot "$1-$2-$WIDTH-$THEME-chat"
    kill "${apps[-1]}"
    sleep 0.5
done
