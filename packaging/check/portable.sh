# Part of packaging/check.sh: the portable archive, unpacked into a temp
# folder and started from another working directory on a fresh HOME, under
# strace. Registers an account through the real window (clicks and typing),
# checks the relay took it, closes the window, and checks that every file the
# app (and its bundled relay) changed is inside the unpacked folder.

# Where the register form's controls are in the default 1000x680 window,
# measured on its screenshots: points inside each field in both languages
# (the Chinese form sits 12 px higher: its tagline is one line). A miss shows
# as "not signed in" with the filled-in form's screenshot.
SWITCH_TO_REGISTER="500 490"
REG_ACCOUNT="500 178"
REG_PASSWORD="500 228"
REG_PASSWORD2="500 278"
REG_NICKNAME="500 328"
REG_SUBMIT="500 549"

TRACED=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,unlink,unlinkat,rmdir,truncate,chmod,fchmodat,chown,fchownat,lchown,mknod,mknodat,utimensat,bind,chdir,fchdir

check_portable() { # ARCHIVE KIND LANG TITLE
    local archive=$1 kind=$2 lang=$3 title=$4
    local dir home cwd folder port app win account nick
    echo "== portable $kind ($lang): $archive"
    dir=$(mktemp -d -p "$work"); home=$(mktemp -d -p "$work"); cwd=$(mktemp -d -p "$work")
    case "$kind" in
        tgz) tar -xzf "$archive" -C "$dir" ;;
        zip) python3 -m zipfile -e "$archive" "$dir"; chmod +x "$dir"/*/natter "$dir"/*/natter-server ;;
    esac
    folder=$(ls -d "$dir"/*/); folder=${folder%/}
    for f in natter natter-server portable README.txt relay.toml natter.png; do
        [ -e "$folder/$f" ] || fail "$kind: no $f in the folder"
    done
    "$folder/natter-server" --check-config --config "$folder/relay.toml" >/dev/null \
        || fail "$kind: the sample relay.toml does not pass --check-config"

    port=$(free_port)
    local trace="$out/portable-$kind.strace"
    rm -f "$trace".*
    (cd "$cwd" && exec env -i PATH=/usr/bin:/bin HOME="$home" DISPLAY="$DISPLAY" LANG=C.UTF-8 \
        NATTER_MEDIA_BIND=127.0.0.1 strace -ff -qq -y -s 4096 -e trace="$TRACED" -o "$trace" \
        "$folder/natter" --server "http://127.0.0.1:$port" --lang "$lang") >"$out/portable-$kind.log" 2>&1 &
    app=$!
    pids+=("$app")
    wait_health "http://127.0.0.1:$port" 60 || { cat "$out/portable-$kind.log"; fail "$kind: the bundled relay does not answer"; }
    win=$(wait_window "$title" 60) || { cat "$out/portable-$kind.log"; fail "$kind: no window titled $title"; }
    pids+=($(pgrep -P "$app"))  # the app itself: a killed strace leaves its tracee running
    sleep 2
    check_drawn "$win" "portable-$kind-sign-in"

    # Register through the window, as a person would.
    account="portable$kind"; nick="Pat$kind"
    xdotool windowfocus --sync "$win"
    click_at "$win" $SWITCH_TO_REGISTER
    sleep 1
    check_drawn "$win" "portable-$kind-register"
    type_into "$win" $REG_ACCOUNT "$account"
    type_into "$win" $REG_PASSWORD "portable-password"
    type_into "$win" $REG_PASSWORD2 "portable-password"
    type_into "$win" $REG_NICKNAME "$nick"
    import -window "$win" "$out/portable-$kind-register-filled.png"
    click_at "$win" $REG_SUBMIT
    # Registered, then signed straight in: the title gets the nickname.
    wait_title "$win" "$title — $nick" 30 \
        || fail "$kind: not signed in after registering through the window (title: $(xdotool getwindowname "$win"); see $out/portable-$kind-register-filled.png)"
    sleep 2
    check_drawn "$win" "portable-$kind-signed-in"
    curl -fsS -X POST -H 'content-type: application/json' \
        -d "{\"account\":\"$account\",\"password\":\"portable-password\"}" \
        "http://127.0.0.1:$port/v1/auth/login" >/dev/null \
        || fail "$kind: the relay does not know the account registered in the window"
    echo "$kind: registered $account ($nick) through the window; the relay signs it in"

    close_window "$win" "$app" 20
    [ -f "$folder/data/relay/natter.redb" ] || fail "$kind: the relay's data is not in the folder"
    [ -d "$folder/data/profiles/default" ] || fail "$kind: the profile is not in the folder ($(ls "$folder/data"))"
    local stray
    stray=$(find "$home" "$cwd" -mindepth 1 | head -20)
    [ -z "$stray" ] || fail "$kind: wrote outside the folder: $stray"
    echo "$kind: every change the app made (strace), relative to the folder:"
    python3 "$here/writes.py" "$trace" "$cwd" "$folder" || fail "$kind: the app changed files outside $folder"
    rm -rf "$dir" "$home" "$cwd"
}
