#!/usr/bin/env bash
# `make dist`: one release build, then in dist/:
#   natter_<version>_amd64.deb            the app, installable with apt (cargo-packager)
#   natter-relay_<version>_amd64.deb      the relay as a systemd service (dpkg-deb)
#   natter-<version>-linux-x86_64.tar.gz  portable: app, relay, README, marker
#   natter-<version>-linux-x86_64.zip     the same layout as a zip
# The packaging tool (cargo-packager) comes from crates.io and is installed
# here if missing; nothing else is downloaded.
#
# The relay's .deb is put together with dpkg-deb (part of dpkg, on every
# Debian system): a service package needs maintainer scripts (the `natter`
# user, directory modes, enabling the unit) and a conffile, which
# cargo-packager's .deb does not offer, and it always adds a desktop entry.
#
# No AppImage. An AppImage is a prebuilt runtime (an ELF stub that mounts the
# squashfs appended to it through FUSE) plus the squashfs; the runtime and the
# tools that assemble one (appimagetool, linuxdeploy) are not in Debian 12 or
# on crates.io (Debian has only libappimage, a library that reads AppImages),
# cargo-packager 0.11.8's `appimage` format downloads AppRun, linuxdeploy and
# linuxdeploy-plugin-appimage from GitHub releases while packaging, and the
# crates.io alternative, cargo-appimage 2.4.0, runs an `appimagetool` that must
# be downloaded from GitHub by hand. Packaging here must download nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
PACKAGER_VERSION=0.11.8
target_dir=$($CARGO metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
version=$($CARGO metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="natter"))')
arch=$(uname -m)

nice -n 19 $CARGO build --release --locked -p natter -p natter-server --bins

if ! cargo-packager --version 2>/dev/null | grep -q "$PACKAGER_VERSION"; then
    echo "Installing cargo-packager $PACKAGER_VERSION from crates.io"
    nice -n 19 $CARGO install cargo-packager --locked --version "$PACKAGER_VERSION"
fi

rm -rf dist && mkdir -p dist
# Every package takes the same two binaries, stripped of the line tables the
# release profile keeps for backtraces.
bins="$target_dir/dist-bin"
rm -rf "$bins" && mkdir -p "$bins"
for b in natter natter-server; do
    strip -o "$bins/$b" "$target_dir/release/$b"
done
# The app's .deb (cargo-packager reads app/Cargo.toml). It takes binaries from
# <target dir>/<profile> and 0.11.8 ignores --binaries-dir, so the stripped
# copies' folder is named as the "profile"; it builds nothing itself.
(cd app && cargo-packager --profile dist-bin --formats deb --out-dir "$target_dir/packager")
cp "$target_dir"/packager/natter_"$version"_*.deb dist/

# The portable folder: the same layout for .tar.gz and .zip.
name="natter-$version-linux-$arch"
stage="dist/$name"
mkdir -p "$stage"
cp "$bins/natter" "$bins/natter-server" "$stage/"
: > "$stage/portable"
cp packaging/icons/natter-256.png "$stage/natter.png"
# The app's translations, sounds and icons are built into the binary; the
# folder needs no asset files. The sample relay config keeps its data in the
# folder too (relative to it when started from it, as README.txt says).
sed -e 's|^data_dir = "/var/lib/natter".*|data_dir = "data/server"        # inside this folder|' \
    -e 's|^# /etc/natter/relay.toml .*|# relay.toml — the Natter relay'"'"'s configuration (portable sample).|' \
    -e 's|natter-server --config /etc/natter/relay.toml --check-config|./natter-server --config relay.toml --check-config|' \
    packaging/relay/relay.toml >"$stage/relay.toml"
grep -q '^data_dir = "data/server"' "$stage/relay.toml"
sed "s/@VERSION@/$version/g" packaging/portable/README.txt > "$stage/README.txt"
(cd dist && tar -czf "$name.tar.gz" "$name")
(cd dist && python3 -m zipfile -c "$name.zip" "$name")
rm -rf "$stage"

# The relay's .deb, from the same stripped binary.
bash packaging/relay/deb.sh "$bins/natter-server" "$version" dist "$target_dir/natter-relay-deb"
ls -l dist
