#!/usr/bin/env bash
# Start-up time and idle memory of the real app process on the benchmark
# profile (100 conversations, one of them 100,000 messages long), CPU renderer
# under Xvfb, with the relay running on loopback.
#
#   bash app/bench/startup.sh            # RUNS=10 by default
#
# Prints, per run, the app's own "conversation list ready" figure (from process
# start, logged at NATTER_LOG=natter=info) and the resident set size after the
# app has been idle for IDLE seconds, then medians and percentiles.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-10}
IDLE=${IDLE:-10}
BENCH_HOME=${BENCH_HOME:-/tmp/natter-bench}
RELAY=127.0.0.1:7981
DISPLAY_NUM=${DISPLAY_NUM:-:97}

command -v Xvfb >/dev/null || { echo "needs Xvfb (Debian: apt-get install xvfb)" >&2; exit 1; }
cargo build --release -p natter -p natter-server --bins --example bench_seed
if [ ! -d "$BENCH_HOME/relay" ] || [ -n "${RESEED:-}" ]; then
    rm -rf "$BENCH_HOME" && mkdir -p "$BENCH_HOME"
    NATTER_HOME=$BENCH_HOME ./target/release/examples/bench_seed $RELAY
fi

Xvfb "$DISPLAY_NUM" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
./target/release/natter-server --bind $RELAY --data-dir "$BENCH_HOME/relay" \
    --turn-bind 127.0.0.1:0 --registrations-per-hour 0 >"$BENCH_HOME/relay.log" 2>&1 &
relay=$!
trap 'kill $xvfb $relay 2>/dev/null || true' EXIT
sleep 1

ready=()
rss=()
for i in $(seq 1 "$RUNS"); do
    log="$BENCH_HOME/app-$i.log"
    NO_COLOR=1 DISPLAY=$DISPLAY_NUM ICED_BACKEND=tiny-skia NATTER_HOME=$BENCH_HOME NATTER_LOG=natter=info \
        ./target/release/natter --profile bench --server "http://$RELAY" --lang en-US >"$log" 2>&1 &
    app=$!
    ms=""
    for _ in $(seq 1 200); do
        ms=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'conversation list ready ms=[0-9]*' | head -1 | grep -o '[0-9]*$' || true)
        [ -n "$ms" ] && break
        sleep 0.05
    done
    sleep "$IDLE"
    kb=$(awk '/VmRSS/ {print $2}' /proc/$app/status)
    online=$(curl -s -m 2 "http://$RELAY/healthz" | grep -o '"sessions":[0-9]*' || true)
    kill $app
    wait $app 2>/dev/null || true
    echo "run $i: conversation list ready ${ms:-?} ms, RSS after ${IDLE} s idle $((kb / 1024)) MiB ($kb KiB), relay ${online:-?}"
    ready+=("${ms:-99999}")
    rss+=("$kb")
done

summary() {
    sort -n | awk -v what="$1" -v unit="$2" '{v[NR]=$1} END {
        p50=v[int((NR+1)/2)]; p95=v[int(NR*0.95+0.999)]; if (p95=="") p95=v[NR];
        printf "%-36s n=%d  p50 %s %s  p95 %s %s  max %s %s\n", what, NR, p50, unit, p95, unit, v[NR], unit }'
}
printf '%s\n' "${ready[@]}" | summary "start → conversation list" ms
printf '%s\n' "${rss[@]}" | awk '{print int($1/1024)}' | summary "RSS idle (100 conversations)" MiB
