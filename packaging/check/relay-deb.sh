# Part of packaging/check.sh: the relay's .deb, installed with apt. There is
# no systemd here, so the relay is started the way its unit starts it: as the
# `natter` user, no new privileges, umask 0027, working directory /, with
# /etc/natter/relay.toml (only the listen addresses moved to free loopback
# ports).

check_relay_deb() { # DEB
    local deb=$1 f unit=/lib/systemd/system/natter-relay.service
    echo "== the relay's .deb: $deb"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "./$deb" >"$out/apt-relay.log" 2>&1 \
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

    # As the unit runs it: ExecStartPre, then ExecStart, as natter.
    local as_natter=(setpriv --reuid=natter --regid=natter --init-groups --no-new-privs
        --inh-caps=-all --bounding-set=-all,+net_bind_service env -i PATH=/usr/bin:/bin NATTER_LOG=info)
    (cd / && umask 0027 && exec "${as_natter[@]}" natter-server --check-config --config /etc/natter/relay.toml) \
        >"$out/relay-check-config.log" 2>&1 \
        || { cat "$out/relay-check-config.log"; fail "natter-server --check-config --config /etc/natter/relay.toml"; }
    sed 's/^/  /' "$out/relay-check-config.log"
    local port mport relay
    port=$(free_port); mport=$(free_port)
    (cd / && umask 0027 && exec "${as_natter[@]}" natter-server --config /etc/natter/relay.toml \
        --bind "127.0.0.1:$port" --turn-bind 127.0.0.1:0 --metrics-bind "127.0.0.1:$mport") >"$out/relay.log" 2>&1 &
    relay=$!
    pids+=("$relay")
    wait_health "http://127.0.0.1:$port" 20 || { cat "$out/relay.log"; fail "the packaged relay does not answer"; }
    # The subshell exec'd setpriv, env and the relay: $relay is the relay.
    [ "$(ps -o user= -p "$relay")" = natter ] || fail "the relay runs as $(ps -o user= -p "$relay"), not natter"
    grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$relay/status" || fail "the relay may gain privileges"
    echo "packaged relay (user natter, NoNewPrivs, $(grep CapBnd "/proc/$relay/status" | tr -s '\t' ' ')): $(cat "$out/health.json")"
    curl -fsS -X POST -H 'content-type: application/json' \
        -d '{"account":"operator1","password":"operator-password","nickname":"Op"}' \
        "http://127.0.0.1:$port/v1/auth/register" >/dev/null || fail "cannot register on the packaged relay"
    curl -fsS "http://127.0.0.1:$mport/metrics" >"$out/relay-metrics.txt" || fail "no /metrics on its own listener"
    grep -q '^# TYPE' "$out/relay-metrics.txt" || fail "/metrics is not Prometheus text"
    (cd / && exec "${as_natter[@]}" natter-server --config /etc/natter/relay.toml admin search operator1) \
        >"$out/relay-admin.log" 2>&1 \
        || { cat "$out/relay-admin.log"; fail "natter-server admin search, as natter"; }
    grep -q operator1 "$out/relay-admin.log" || fail "admin search did not find operator1: $(cat "$out/relay-admin.log")"
    echo "admin search operator1: $(head -1 "$out/relay-admin.log")"
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
    for _ in $(seq 100); do kill -0 "$relay" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$relay" 2>/dev/null && fail "the relay did not stop within 20 s of SIGTERM (TimeoutStopSec)"
    wait "$relay" || fail "the relay exited with status $? on SIGTERM"
    echo "relay stopped on SIGTERM"

    # Reinstalling keeps the user, the data and the modes.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --reinstall "./$deb" >>"$out/apt-relay.log" 2>&1 \
        || { cat "$out/apt-relay.log"; fail "reinstall $deb"; }
    [ "$(getent passwd natter | cut -d: -f3)" = "$uid" ] || fail "reinstalling changed the natter user"
    [ -f /var/lib/natter/natter.redb ] || fail "reinstalling lost /var/lib/natter"
}
