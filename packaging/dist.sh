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
# and cargo-packager's `appimage` format downloads linuxdeploy and its plugins
# from their GitHub releases while packaging, which this build must not do.
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
# The .deb, from the binaries just built (cargo-packager reads app/Cargo.toml).
(cd app && cargo-packager --release --formats deb --out-dir "$target_dir/release" -v)
cp "$target_dir"/release/natter_"$version"_*.deb dist/

# The portable folder: the same layout for .tar.gz and .zip.
name="natter-$version-linux-$arch"
stage="dist/$name"
mkdir -p "$stage"
cp "$target_dir/release/natter" "$target_dir/release/natter-server" "$stage/"
strip "$stage/natter" "$stage/natter-server" 2>/dev/null || true
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

# The relay's .deb: /usr/bin/natter-server, the unit, /etc/natter/relay.toml
# (a conffile), /var/lib/natter; postinst creates the `natter` user.
deb_arch=$(dpkg --print-architecture)
rstage="$target_dir/natter-relay-deb"
rm -rf "$rstage"
install -d "$rstage/DEBIAN" "$rstage/usr/bin" "$rstage/lib/systemd/system" "$rstage/etc/natter" \
    "$rstage/var/lib/natter" "$rstage/usr/share/doc/natter-relay"
install -m 0755 "$target_dir/release/natter-server" "$rstage/usr/bin/natter-server"
strip "$rstage/usr/bin/natter-server"
install -m 0644 packaging/relay/natter-relay.service "$rstage/lib/systemd/system/"
install -m 0644 packaging/relay/relay.toml "$rstage/etc/natter/relay.toml"
install -m 0644 packaging/relay/debian/copyright "$rstage/usr/share/doc/natter-relay/copyright"
install -m 0755 packaging/relay/debian/postinst packaging/relay/debian/prerm packaging/relay/debian/postrm "$rstage/DEBIAN/"
install -m 0644 packaging/relay/debian/conffiles "$rstage/DEBIAN/"
# Library dependencies as Debian computes them, from the binary itself.
shlib=$(mktemp -d)
mkdir "$shlib/debian" && printf 'Source: natter\n\nPackage: natter-relay\nArchitecture: any\n' >"$shlib/debian/control"
depends=$(cd "$shlib" && dpkg-shlibdeps -O -e "$rstage/usr/bin/natter-server" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlib"
[ -n "$depends" ] || { echo "dpkg-shlibdeps found no dependencies for natter-server" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$rstage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$deb_arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    packaging/relay/debian/control.in >"$rstage/DEBIAN/control"
(cd "$rstage" && find . -type f ! -path './DEBIAN/*' -printf '%P\n' | LC_ALL=C sort | xargs md5sum) >"$rstage/DEBIAN/md5sums"
dpkg-deb --root-owner-group --build "$rstage" "dist/natter-relay_${version}_${deb_arch}.deb"
ls -l dist
