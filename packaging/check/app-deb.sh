# Part of packaging/check.sh: the app's .deb, installed with apt and started
# from /usr/bin on a fresh HOME.

check_app_deb() { # DEB
    local deb=$1 f version home port app win
    echo "== the app's .deb: $deb"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "./$deb" >"$out/apt-app.log" 2>&1 \
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

    # Every library the binary links directly must come from a declared dependency.
    local depends declared lib path pkg
    depends=$(dpkg-query -W -f='${Depends}' natter)
    declared=$(echo "$depends" | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g')
    echo "declared: Depends: $depends"
    for lib in $(objdump -p /usr/bin/natter | awk '/NEEDED/ {print $2}'); do
        path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')
        [ -n "$path" ] || fail "/usr/bin/natter needs $lib, which this system does not have"
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)
        pkg=${pkg%%:*}
        echo "$declared" | grep -qx "$pkg" \
            || fail "/usr/bin/natter links $lib (package ${pkg:-unknown}), which is not in Depends"
    done

    version=$(/usr/bin/natter --version)
    echo "installed: $version"
    [[ "$version" == "natter "* ]] || fail "natter --version said: $version"

    home=$(mktemp -d)
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
