# Part of packaging/check.sh: the relay's .deb, installed with apt. There is
# no systemd here, so the relay is started the way its unit starts it: as the
# `natter` user, no new privileges, umask 0027, working directory /, with
# /etc/natter/relay.toml (only the listen addresses moved to free loopback
# ports).

check_relay_deb() { # DEB
    local deb=$1 f unit=/lib/systemd/system/natter-relay.service
    echo "== the relay's .deb: $deb"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >"$out/apt-relay.log" 2>&1 \
        || { cat "$out/apt-relay.log"; fail "apt install $deb"; }
    for f in /usr/bin/natter-server "$unit" /etc/natter/relay.toml /var/lib/natter; do
        [ -e "$f" ] || fail "the relay package did not install $f (it has: $(dpkg -L natter-relay | tr '\n' ' '))"
    done
    dpkg-query -W -f='${Conffiles}\n' natter-relay | grep -q '^ /etc/natter/relay.toml ' \
        || fail "/etc/natter/relay.toml is not a conffile"

    # Its own system user, and the directories it may use.
    local entry uid shell
    entry=$(getent passwd natter) || fail "the package did not create the natter user"
    uid=$(echo "$entry" | cut -d: -f3)
    shell=$(echo "$entry" | cut -d: -f7)
    [ "$uid" -lt 1000 ] || fail "natter is not a system user (uid $uid)"
    [ "$shell" = /usr/sbin/nologin ] || fail "natter can log in (shell $shell)"
    getent group natter >/dev/null || fail "no natter group"
    [ "$(stat -c '%U:%G %a' /var/lib/natter)" = "natter:natter 750" ] \
        || fail "/var/lib/natter is $(stat -c '%U:%G %a' /var/lib/natter)"
    [ "$(stat -c '%U:%G %a' /etc/natter)" = "root:natter 750" ] \
        || fail "/etc/natter is $(stat -c '%U:%G %a' /etc/natter)"
    echo "user: $entry; /var/lib/natter $(stat -c '%U:%G %a' /var/lib/natter); /etc/natter $(stat -c '%U:%G %a' /etc/natter)"
    [ -L /etc/systemd/system/multi-user.target.wants/natter-relay.service ] \
        || fail "the service is not enabled"

    # The unit: systemd's own checks, and the options it must keep.
    systemd-analyze verify "$unit" >"$out/unit-verify.log" 2>&1 \
        || { cat "$out/unit-verify.log"; fail "systemd-analyze verify $unit"; }
    for f in User=natter Group=natter NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
             PrivateTmp=yes PrivateDevices=yes StateDirectory=natter ReadWritePaths=/var/lib/natter \
             "ExecStart=/usr/bin/natter-server --config /etc/natter/relay.toml"; do
        grep -qx "$f" "$unit" || fail "the unit lacks $f"
    done
    systemd-analyze security --offline=true "$unit" >"$out/unit-security.log" 2>&1 || true
    echo "unit: $(tail -1 "$out/unit-security.log")"

    # Where systemd runs (not on this build machine), postinst started the
    # service with relay.toml (port 7878): it must be up under its sandbox.
    # It is stopped before the run below, which uses the same data.
    if [ -d /run/systemd/system ]; then
        systemctl is-active --quiet natter-relay.service \
            || { systemctl status natter-relay.service --no-pager || true; fail "the service did not start"; }
        wait_health http://127.0.0.1:7878 20 || fail "the service does not answer on 127.0.0.1:7878"
        echo "systemd service: active, $(cat "$out/health.json")"
        systemctl stop natter-relay.service
    fi

    # As the unit runs it: ExecStartPre, then ExecStart, as natter.
    local as_natter=(setpriv --reuid=natter --regid=natter --init-groups --no-new-privs
        --inh-caps=-all --bounding-set=-all,+net_bind_service env -i PATH=/usr/bin:/bin NATTER_LOG=info)
    (cd / && umask 0027 && exec "${as_natter[@]}" natter-server --check-config --config /etc/natter/relay.toml) \
        >"$out/relay-check-config.log" 2>&1 \
        || { cat "$out/relay-check-config.log"; fail "natter-server --check-config --config /etc/natter/relay.toml"; }
    sed 's/^/  /' "$out/relay-check-config.log"
    # Under strace, to hold what it does against the unit's sandbox (which
    # systemd would enforce): system calls, socket families, memory, /proc,
    # and files written (only /var/lib/natter: ProtectSystem=strict).
    local port mport tracer relay trace="$out/relay.strace"
    port=$(free_port); mport=$(free_port)
    rm -f "$trace".*
    (cd / && umask 0027 && exec strace -ff -qq -y -s 256 -o "$trace" "${as_natter[@]}" \
        natter-server --config /etc/natter/relay.toml \
        --bind "127.0.0.1:$port" --turn-bind 127.0.0.1:0 --metrics-bind "127.0.0.1:$mport") >"$out/relay.log" 2>&1 &
    tracer=$!
    pids+=("$tracer")
    wait_health "http://127.0.0.1:$port" 30 || { cat "$out/relay.log"; fail "the packaged relay does not answer"; }
    # strace's child exec'd setpriv, env and then the relay: same process.
    relay=$(pgrep -P "$tracer" | head -1)
    [ "$(readlink "/proc/$relay/exe")" = /usr/bin/natter-server ] || fail "cannot find the relay's process"
    pids+=("$relay")  # a killed strace leaves its tracee running
    [ "$(ps -o user= -p "$relay")" = natter ] || fail "the relay runs as $(ps -o user= -p "$relay"), not natter"
    grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$relay/status" || fail "the relay may gain privileges"
    echo "packaged relay (user natter, NoNewPrivs, $(grep CapBnd "/proc/$relay/status" | tr -s '\t' ' ')): $(cat "$out/health.json")"
    # A new name each run: /var/lib/natter outlives the package (see check_purge).
    local account="op$(date +%s)"
    curl -fsS -X POST -H 'content-type: application/json' \
        -d "{\"account\":\"$account\",\"password\":\"operator-password\",\"nickname\":\"Op\"}" \
        "http://127.0.0.1:$port/v1/auth/register" >/dev/null || fail "cannot register on the packaged relay"
    curl -fsS "http://127.0.0.1:$mport/metrics" >"$out/relay-metrics.txt" || fail "no /metrics on its own listener"
    grep -q '^# TYPE' "$out/relay-metrics.txt" || fail "/metrics is not Prometheus text"
    (cd / && exec "${as_natter[@]}" natter-server --config /etc/natter/relay.toml admin search "$account") \
        >"$out/relay-admin.log" 2>&1 \
        || { cat "$out/relay-admin.log"; fail "natter-server admin search, as natter"; }
    grep -q "$account" "$out/relay-admin.log" || fail "admin search did not find $account: $(cat "$out/relay-admin.log")"
    echo "admin search $account, as natter: $(grep "$account" "$out/relay-admin.log" | tr -s ' ')"
    # What it wrote is natter's, not readable by others (UMask=0027).
    local bad
    bad=$(find /var/lib/natter -mindepth 1 \( ! -user natter -o -perm /o=rwx \) -printf '%p %u %m\n')
    [ -z "$bad" ] || fail "files in /var/lib/natter not natter's or readable by others: $bad"
    [ -f /var/lib/natter/natter.redb ] || fail "the relay keeps no database in /var/lib/natter"
    echo "/var/lib/natter: $(find /var/lib/natter -mindepth 1 -maxdepth 1 -printf '%f(%u %m) ' )"
    # Logs are JSON lines, as relay.toml asks.
    python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]; n=sum(1 for l in open(sys.argv[1]) if l.startswith("{")); assert n > 0, "no JSON log line"; print(f"relay log: {n} JSON lines")' "$out/relay.log" \
        || fail "the relay's log is not JSON lines"
    kill -TERM "$relay"
    local _
    for _ in $(seq 100); do kill -0 "$tracer" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$tracer" 2>/dev/null && fail "the relay did not stop within 20 s of SIGTERM (TimeoutStopSec)"
    wait "$tracer" || fail "the relay exited with status $? on SIGTERM"
    echo "relay stopped on SIGTERM"
    echo "the relay against its unit's sandbox:"
    python3 "$here/syscalls.py" "$trace" "$unit" /usr/bin/natter-server || fail "the relay breaks its unit's sandbox"
    python3 "$here/writes.py" "$trace" / /var/lib/natter >"$out/relay-writes.log" \
        || fail "the relay wrote outside /var/lib/natter"
    tail -1 "$out/relay-writes.log"

    # Reinstalling keeps the user, the data and the modes.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall "./$deb" >>"$out/apt-relay.log" 2>&1 \
        || { cat "$out/apt-relay.log"; fail "reinstall $deb"; }
    [ "$(getent passwd natter | cut -d: -f3)" = "$uid" ] || fail "reinstalling changed the natter user"
    [ -f /var/lib/natter/natter.redb ] || fail "reinstalling lost /var/lib/natter"
    # Reinstalling restarted the service where systemd runs; its TURN port
    # (3478) would keep the portable app's bundled relay from starting.
    if [ -d /run/systemd/system ]; then systemctl stop natter-relay.service; fi
}

# Both packages purged: their files go, the relay's data and user stay (as
# postrm says), and no statoverride is left behind.
check_purge() {
    echo "== purging both packages"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq natter natter-relay >"$out/apt-purge.log" 2>&1 \
        || { cat "$out/apt-purge.log"; fail "apt-get purge natter natter-relay"; }
    local f
    for f in /usr/bin/natter /usr/bin/natter-server /usr/share/applications/natter.desktop \
             /lib/systemd/system/natter-relay.service /etc/natter/relay.toml \
             /etc/systemd/system/multi-user.target.wants/natter-relay.service; do
        [ ! -e "$f" ] || fail "$f is still there after purging"
    done
    dpkg-statoverride --list | grep -q natter && fail "statoverrides left: $(dpkg-statoverride --list | grep natter)"
    [ -f /var/lib/natter/natter.redb ] || fail "purging deleted the relay's data"
    getent passwd natter >/dev/null || fail "purging deleted the natter user"
    echo "purged: files gone; /var/lib/natter and the natter user kept"
}
