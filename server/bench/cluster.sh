#!/usr/bin/env bash
# Cluster benchmarks (`make bench-cluster`), all on this machine, loopback only:
#   1. natter-load throughput against one node on redb (natter-load starts it);
#   2. the same against one node on PostgreSQL (no bus);
#   3. the same through haproxy in front of three nodes on PostgreSQL and NATS;
#   4. natter-load cross: delivery latency to the sender's node vs another node.
# Needs the release binaries (natter-server, natter-load) and postgresql,
# nats-server and haproxy (installed by `make deps`).
# USERS, RATE, SECONDS_MEASURED set the throughput runs (defaults 2000, 6000,
# 10); ONLY_CROSS=1 skips them and measures only the cross-node latency.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release}
users=${USERS:-2000}
rate=${RATE:-6000}
seconds=${SECONDS_MEASURED:-10}
work=$(mktemp -d /tmp/natter-cluster-bench.XXXXXX)
chmod 755 "$work"   # PostgreSQL runs as its own user
pids=()
cleanup() {
    # Nodes are started in command substitutions (subshells): their pids are
    # in a file.
    [ -f "$work/node.pids" ] && mapfile -t -O "${#pids[@]}" pids < "$work/node.pids"
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "nothing on port $1" >&2; return 1; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
mkdir -p "$work/pg" && chown postgres "$work/pg" 2>/dev/null || true
"${as_pg[@]}" "$pg_bin/initdb" -A trust -U natter -E UTF8 --no-locale -N -D "$work/pg/data" >/dev/null
pg_port=$(free_port)
"${as_pg[@]}" "$pg_bin/postgres" -D "$work/pg/data" -p "$pg_port" -h 127.0.0.1 -k "$work/pg" \
    -c max_connections=300 -c shared_buffers=256MB >"$work/pg.log" 2>&1 &
pids+=($!)
wait_port "$pg_port"
sleep 0.5
db() { "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U natter -d postgres -c "CREATE DATABASE $1" >/dev/null; echo "postgres://natter@127.0.0.1:$pg_port/$1"; }

nats_port=$(free_port)
nats-server -a 127.0.0.1 -p "$nats_port" >"$work/nats.log" 2>&1 &
pids+=($!)
wait_port "$nats_port"

# node NAME ARGS... : starts a relay, prints its address.
node() {
    local name=$1; shift
    mkdir -p "$work/$name"
    "$bin/natter-server" --bind 127.0.0.1:0 --no-turn --data-dir "$work/$name" \
        --argon2-memory-kib 64 --argon2-iterations 1 --registrations-per-hour 0 \
        --frames-per-sec 1000000 --frames-burst 1000000 "$@" \
        >"$work/$name.out" 2>"$work/$name.log" &
    echo $! >>"$work/node.pids"
    for _ in $(seq 200); do
        if grep -q "listening on" "$work/$name.out" 2>/dev/null; then
            awk '/listening on/ {print $NF; exit}' "$work/$name.out"
            return 0
        fi
        sleep 0.05
    done
    cat "$work/$name.log" >&2
    return 1
}

run() { echo; echo "== $1"; shift; "$@"; }
load="$bin/natter-load"
through() { "$load" --relay "$1" throughput --users "$users" --rate "$rate" --seconds "$seconds"; }

only_cross=${ONLY_CROSS:-}
[ -n "$only_cross" ] || run "one node, embedded redb" "$load" --server "$bin/natter-server" throughput --users "$users" --rate "$rate" --seconds "$seconds"

if [ -z "$only_cross" ]; then
    single=$(node single --database "$(db single)")
    run "one node, PostgreSQL" through "$single"
fi

shared_files="$work/files"
cluster_db=$(db cluster)
n1=$(node n1 --database "$cluster_db" --nats "nats://127.0.0.1:$nats_port" --files-dir "$shared_files")
n2=$(node n2 --database "$cluster_db" --nats "nats://127.0.0.1:$nats_port" --files-dir "$shared_files")
n3=$(node n3 --database "$cluster_db" --nats "nats://127.0.0.1:$nats_port" --files-dir "$shared_files")
lb_port=$(free_port)
servers=$(printf '    server n1 %s\n    server n2 %s\n    server n3 %s\n' "$n1" "$n2" "$n3")
python3 - "$root/packaging/cluster/haproxy.cfg" "$work/haproxy.cfg" "127.0.0.1:$lb_port" "$servers" <<'PY'
import sys
src, dst, front, servers = sys.argv[1:]
open(dst, "w").write(open(src).read().replace("@FRONTEND@", front).replace("@SERVERS@", servers))
PY
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
wait_port "$lb_port"
sleep 1.5
[ -n "$only_cross" ] || run "three nodes, PostgreSQL + NATS, through haproxy" through "127.0.0.1:$lb_port"

run "cross-node delivery latency (sender on n1)" "$load" --relay "$n1,$n2" cross
