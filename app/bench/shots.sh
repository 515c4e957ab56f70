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
# --workspace: the features the tests build with, so nothing is built twice.
cargo build --workspace --bins --example demo_seed
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

# Starts one app as `profile` in `lang`, sized to the screen; sets WIN and APP.
start() {
    local profile=$1 lang=$2
    DISPLAY=$DISPLAY_NUM ICED_BACKEND=tiny-skia NATTER_HOME=$SHOTS_HOME NATTER_MEDIA_BIND=127.0.0.1 \
        "$TARGET/natter" --profile "$profile" --server "http://$RELAY" --lang "$lang" \
        >"$SHOTS_HOME/$profile.log" 2>&1 &
    APP=$!
    apps+=("$APP")
    WIN=""
    for _ in $(seq 1 100); do
        WIN=$(DISPLAY=$DISPLAY_NUM xdotool search --name "." 2>/dev/null | tail -1 || true)
        [ -n "$WIN" ] && break
        sleep 0.1
    done
    DISPLAY=$DISPLAY_NUM xdotool windowsize --sync "$WIN" "$WIDTH" "$HEIGHT" windowmove --sync "$WIN" 0 0
    DISPLAY=$DISPLAY_NUM xdotool windowfocus --sync "$WIN"
    sleep 2
}

shot() {
    DISPLAY=$DISPLAY_NUM import -window root "$OUT/$1.png"
    echo "wrote $OUT/$1.png"
}

click() { # x y [button]
    DISPLAY=$DISPLAY_NUM xdotool mousemove --sync "$1" "$2" sleep 0.2 click "${3:-1}"
    sleep 0.8
}

# Each person: the list, their 1:1 chat (second in the list: the group is
# newer) and, with MENU_bob="X Y" / MENU_alice="X Y", the menu of the
# message at that point.
for who in "bob en-US" "alice zh-CN"; do
    set -- $who
    start "$1" "$2"
    shot "$1-$2-$WIDTH-$THEME-group"
    click "${CHAT_X:-150}" "${CHAT_Y:-215}"
    shot "$1-$2-$WIDTH-$THEME-chat"
    menu="MENU_$1"
    if [ -n "${!menu:-}" ]; then
        click ${!menu} 3
        shot "$1-$2-$WIDTH-$THEME-menu"
    fi
    kill "$APP"
    wait "$APP" 2>/dev/null || true
done
