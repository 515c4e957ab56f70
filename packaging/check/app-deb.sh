# Part of packaging/check.sh: the app's .deb, installed with apt and started
# from /usr/bin on a fresh HOME.

check_app_deb() { # DEB
    local deb=$1 f version home port app win
    echo "== the app's .deb: $deb"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >"$out/apt-app.log" 2>&1 \
        || { cat "$out/apt-app.log"; fail "apt install $deb"; }
    for f in /usr/bin/natter /usr/share/applications/natter.desktop \
             /usr/share/icons/hicolor/{32x32,64x64,128x128,256x256,512x512}/apps/natter.png \
             /usr/share/metainfo/io.natter.Natter.metainfo.xml; do
        [ -e "$f" ] || fail "the package did not install $f (it has: $(dpkg -L natter | tr '\n' ' '))"
    done
    desktop-file-validate /usr/share/applications/natter.desktop || fail "natter.desktop is not valid"
    grep -q '^Exec=natter' /usr/share/applications/natter.desktop || fail "natter.desktop does not start natter"
    appstreamcli validate --no-net /usr/share/metainfo/io.natter.Natter.metainfo.xml >"$out/appstream.log" 2>&1 \
        || { cat "$out/appstream.log"; fail "the metainfo is not valid"; }

    # What the binary links, as Debian computes it, must be declared, with at
    # least the version dpkg-shlibdeps asks for.
    local depends needed shlib item pkg want have
    depends=$(dpkg-query -W -f='${Depends}' natter)
    shlib=$(mktemp -d -p "$work")
    mkdir "$shlib/debian"
    printf 'Source: natter\n\nPackage: natter\nArchitecture: any\n' >"$shlib/debian/control"
    needed=$(cd "$shlib" && dpkg-shlibdeps -O -e /usr/bin/natter 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
    rm -rf "$shlib"
    [ -n "$needed" ] || fail "dpkg-shlibdeps found nothing for /usr/bin/natter"
    echo "declared: Depends: $depends"
    echo "linked (dpkg-shlibdeps): $needed"
    while read -r item; do
        pkg=${item%% *}
        want=$(echo "$item" | sed -n 's/.*(>= \(.*\)).*/\1/p')
        have=$(echo "$depends" | tr ',' '\n' | sed 's/^ *//' | grep "^$pkg\( \|$\)" | head -1 || true)
        [ -n "$have" ] || fail "/usr/bin/natter links $pkg, which Depends (app/Cargo.toml) does not name"
        if [ -n "$want" ]; then
            have=$(echo "$have" | sed -n 's/.*(>= \(.*\)).*/\1/p')
            [ -n "$have" ] && dpkg --compare-versions "$have" ge "$want" \
                || fail "/usr/bin/natter needs $pkg (>= $want); Depends (app/Cargo.toml) says ${have:-no version}"
        fi
    done < <(echo "$needed" | tr ',' '\n' | sed 's/^ *//')

    version=$(/usr/bin/natter --version)
    echo "installed: $version"
    [[ "$version" == "natter "* ]] || fail "natter --version said: $version"

    home=$(mktemp -d -p "$work")
    port=$(free_port)
    (cd "$home" && exec env -i PATH=/usr/bin:/bin HOME="$home" DISPLAY="$DISPLAY" LANG=C.UTF-8 \
        NATTER_MEDIA_BIND=127.0.0.1 natter --server "http://127.0.0.1:$port" --lang en-US) \
        >"$out/deb-app.log" 2>&1 &
    app=$!
    pids+=("$app")
    wait_health "http://127.0.0.1:$port" 30 || { cat "$out/deb-app.log"; fail "the installed app's bundled relay does not answer"; }
    echo "bundled relay: $(cat "$out/health.json")"
    win=$(wait_window Natter 30) || { cat "$out/deb-app.log"; fail "the installed app opened no window"; }
    sleep 2
    check_drawn "$win" deb-sign-in
    close_window "$win" "$app" 20
    [ -d "$home/.local/share/natter/profiles/default" ] || fail "the installed app kept no data in ~/.local/share/natter"
    [ -f "$home/.local/share/natter/relay/natter.redb" ] || fail "the bundled relay kept no data in ~/.local/share/natter/relay"
    echo "installed app: data in ~/.local/share/natter: $(cd "$home/.local/share/natter" && find . -maxdepth 2 | sort | tr '\n' ' ')"
    rm -rf "$home"
}
