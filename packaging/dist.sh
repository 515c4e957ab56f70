#!/usr/bin/env bash
# `make dist`: release build, then in dist/:
#   natter_<version>_amd64.deb            the app, installable with apt
#   natter-<version>-linux-x86_64.tar.gz  portable: app, relay, README, marker
#   natter-<version>-linux-x86_64.zip     the same layout as a zip
# The packaging tool (cargo-packager) comes from crates.io and is installed
# here if missing; nothing else is downloaded. An AppImage is not built: its
# tools (linuxdeploy, appimagetool) are downloaded at build time.
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
cp packaging/relay/relay.toml "$stage/relay.toml"
cp -r assets/locales "$stage/locales"
sed "s/@VERSION@/$version/g" packaging/portable/README.txt > "$stage/README.txt"
(cd dist && tar -czf "$name.tar.gz" "$name")
(cd dist && python3 -m zipfile -c "$name.zip" "$name")
rm -rf "$stage"
ls -l dist
