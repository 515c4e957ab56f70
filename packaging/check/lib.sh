# Helpers shared by the packaging checks (sourced by packaging/check.sh).
# Expects $out (where logs and screenshots go) and $DISPLAY (a running Xvfb).

fail() { echo "packaging check FAILED: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits until URL/healthz answers (saved to $out/health.json).
wait_health() { # URL SECONDS
    local _
    for _ in $(seq $(($2 * 5))); do
        if curl -fsS "$1/healthz" >"$out/health.json" 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    return 1
}

# Waits for the app's window (WM_CLASS natter, as natter.desktop's
# StartupWMClass says) titled exactly TITLE; prints its id. (xdotool's --name
# matches the Latin-1 WM_NAME, so a Chinese title is compared here.)
wait_window() { # TITLE SECONDS
    local _ id
    for _ in $(seq $(($2 * 5))); do
        for id in $(xdotool search --onlyvisible --class '^natter$' 2>/dev/null); do
            if [ "$(xdotool getwindowname "$id" 2>/dev/null)" = "$1" ]; then echo "$id"; return 0; fi
        done
        sleep 0.2
    done
    return 1
}

# Waits until window ID's title is TITLE.
wait_title() { # ID TITLE SECONDS
    local _
    for _ in $(seq $(($3 * 5))); do
        [ "$(xdotool getwindowname "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.2
    done
    return 1
}

# A screenshot of window ID that is not one flat colour and has enough
# colours for anti-aliased text. Prints the number of colours.
check_drawn() { # ID NAME
    local shot="$out/$2.png" colours
    import -window "$1" "$shot"
    colours=$(identify -format '%k' "$shot")
    echo "$2: $shot ($(identify -format '%wx%h' "$shot"), $colours colours)"
    [ "$colours" -gt 50 ] || fail "$2: the window did not draw ($colours colours)"
}

# Clicks at X,Y inside window ID.
click_at() { # ID X Y
    xdotool mousemove --sync --window "$1" "$2" "$3" sleep 0.2 click 1
    sleep 0.4
}

# Clicks a text field of window ID at X,Y and types TEXT into it (the window
# has the keyboard focus; xdotool types through XTEST, like a keyboard).
type_into() { # ID X Y TEXT
    click_at "$1" "$2" "$3"
    xdotool type --delay 40 -- "$4"
    sleep 0.3
}

# Asks window ID to close, as a window manager's close button does
# (WM_DELETE_WINDOW), and waits up to SECONDS for process PID to exit 0.
close_window() { # ID PID SECONDS
    /usr/bin/python3 "$here/close-window.py" "$1"  # Debian's python3-xlib
    local _
    for _ in $(seq $(($3 * 5))); do
        kill -0 "$2" 2>/dev/null || break
        sleep 0.2
    done
    kill -0 "$2" 2>/dev/null && fail "the app did not quit within $3 s of its window closing"
    wait "$2" || fail "the app exited with status $? after its window closed"
}
