#!/usr/bin/env bash
# Builds natter-relay_<version>_<arch>.deb with dpkg-deb:
#   /usr/bin/natter-server                    the relay
#   /lib/systemd/system/natter-relay.service  the hardened unit
#   /etc/natter/relay.toml                    its configuration (a conffile)
#   /var/lib/natter                           its data (natter:natter 0750)
# The maintainer scripts in debian/ create the `natter` system user and enable
# the unit. Called by packaging/dist.sh.
#
#   bash packaging/relay/deb.sh BINARY VERSION OUT_DIR STAGE_DIR
set -euo pipefail
binary=$1 version=$2 out=$3 stage=$4
here="$(cd "$(dirname "$0")" && pwd)"
arch=$(dpkg --print-architecture)

rm -rf "$stage"
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/natter" \
    "$stage/var/lib/natter" "$stage/usr/share/doc/natter-relay"
install -m 0755 "$binary" "$stage/usr/bin/natter-server"
install -m 0644 "$here/natter-relay.service" "$stage/lib/systemd/system/"
install -m 0644 "$here/relay.toml" "$stage/etc/natter/relay.toml"
install -m 0644 "$here/debian/copyright" "$stage/usr/share/doc/natter-relay/copyright"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$stage/DEBIAN/"
install -m 0644 "$here/debian/conffiles" "$stage/DEBIAN/"

# Library dependencies as Debian computes them, from the binary itself
# (dpkg-shlibdeps wants a debian/control to read, even an empty one).
shlib=$(mktemp -d)
mkdir "$shlib/debian"
printf 'Source: natter\n\nPackage: natter-relay\nArchitecture: any\n' >"$shlib/debian/control"
depends=$(cd "$shlib" && dpkg-shlibdeps -O -e "$stage/usr/bin/natter-server" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlib"
[ -n "$depends" ] || { echo "dpkg-shlibdeps found no library dependencies for natter-server" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    "$here/debian/control.in" >"$stage/DEBIAN/control"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\n' | LC_ALL=C sort | xargs md5sum) \
    >"$stage/DEBIAN/md5sums"
dpkg-deb --root-owner-group --build "$stage" "$out/natter-relay_${version}_${arch}.deb"
