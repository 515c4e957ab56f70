#!/usr/bin/env bash
# Chinese input through a real input method: IBus with the libpinyin engine,
# reached over XIM, typing into the composer of the real app under Xvfb.
#
#   bash app/bench/ime.sh
#
# Needs (Debian): xvfb xdotool imagemagick ibus ibus-libpinyin dbus-x11. Seeds
# the demo accounts on a relay at 127.0.0.1:7983, starts bob with
# XMODIFIERS=@im=ibus, types the pinyin "nihao" (space picks 你好) and "zhoumo"
# (周末), sends with Enter, and checks that alice receives "你好周末". Leaves
# screenshots of the composition and the sent message in $IME_HOME.
set -euo pipefail
cd "$(dirname "$0")/../.."

IME_HOME=${IME_HOME:-/tmp/natter-ime}
RELAY=127.0.0.1:7983
DISPLAY_NUM=${DISPLAY_NUM:-:93}
for tool in Xvfb xdotool import ibus-daemon dbus-launch; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
cargo build -p natter -p natter-server --bins --example demo_seed
rm -rf "$IME_HOME" && mkdir -p "$IME_HOME"

export DISPLAY=$DISPLAY_NUM
Xvfb "$DISPLAY" -screen 0 1000x680x24 >/dev/null 2>&1 &
pids=($!)
./target/debug/natter-server --bind $RELAY --data-dir "$IME_HOME/relay" \
    --turn-bind 127.0.0.1:0 >"$IME_HOME/relay.log" 2>&1 &
pids+=($!)
trap 'kill "${pids[@]}" 2>/dev/null || true; ibus exit 2>/dev/null || true' EXIT
sleep 1
NATTER_HOME=$IME_HOME ./target/debug/examples/demo_seed "http://$RELAY"

eval "$(dbus-launch --sh-syntax)"
pids+=("$DBUS_SESSION_BUS_PID")
ibus-daemon -drx --panel=disable
for _ in $(seq 50); do ibus engine libpinyin 2>/dev/null && break; sleep 0.2; done
[ "$(ibus engine)" = libpinyin ] || { echo "IBus did not switch to libpinyin" >&2; exit 1; }

XMODIFIERS=@im=ibus NATTER_HOME=$IME_HOME ICED_BACKEND=tiny-skia NATTER_MEDIA_BIND=127.0.0.1 \
    ./target/debug/natter --profile bob --server "http://$RELAY" --lang en-US \
    >"$IME_HOME/bob.log" 2>&1 &
pids+=($!)
win=""
for _ in $(seq 100); do
    win=$(xdotool search --name "Bob" 2>/dev/null | head -1 || true)
    [ -n "$win" ] && break
    sleep 0.2
done
[ -n "$win" ] || { echo "no app window" >&2; exit 1; }
sleep 2

# Open the chat with alice (second row of the list), focus the composer.
xdotool windowfocus --sync "$win"
xdotool mousemove --sync 80 214 click 1
sleep 1
xdotool mousemove --sync 600 637 click 1
sleep 0.5
xdotool windowfocus --sync "$win"
xdotool type --window "$win" --delay 120 nihao
xdotool key --window "$win" space
xdotool type --window "$win" --delay 120 zhoumo
sleep 1
import -window root "$IME_HOME/composing.png"
xdotool key --window "$win" space
sleep 0.5
xdotool key --window "$win" Return
sleep 2
import -window root "$IME_HOME/sent.png"

# What alice's account holds now, read from the relay by a fresh device.
NATTER_HOME=$IME_HOME ./target/debug/examples/demo_seed --last-text "http://$RELAY" \
    | tee "$IME_HOME/received.txt"
grep -qx "你好周末" "$IME_HOME/received.txt" && echo "IME check passed: screenshots in $IME_HOME"
