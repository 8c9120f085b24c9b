#!/usr/bin/env bash
# Builds keybridge_<version>_<arch>.deb from a built keybridge binary and this directory's files
# (what `./dev package` runs on the release build). Plain dpkg-deb: every file the package ships
# and every maintainer script is in deploy/debian/, nothing is generated but the man page (from the
# binary's --help) and Depends (dpkg-shlibdeps, from the libraries the binary links).
#   deploy/debian/build-package.sh BINARY OUTDIR [VERSION]
# VERSION defaults to the binary's own (`keybridge --version`). Prints the package's path.
# KEYBRIDGE_DEB_COMPRESSION (default "-Zxz") is passed to dpkg-deb: the package test, which builds
# two packages of a large ASan binary, uses "-Zgzip -z1".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: build-package.sh BINARY OUTDIR [VERSION]}
out=${2:?usage: build-package.sh BINARY OUTDIR [VERSION]}
version=${3:-$("$bin" --version | awk '{print $NF}')}
arch=$(dpkg --print-architecture)

work=$(mktemp -d "${TMPDIR:-/tmp}/keybridge-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/keybridge_${version}_$arch

install -D -m 0755 "$bin" "$stage/usr/bin/keybridge"
strip --strip-unneeded "$stage/usr/bin/keybridge"
# docker, podman and skopeo look for docker-credential-<name> on PATH; keybridge answers as
# `keybridge docker-credential` under that name.
ln -s keybridge "$stage/usr/bin/docker-credential-keybridge"
install -D -m 0755 "$here/keybridgectl" "$stage/usr/sbin/keybridgectl"
install -D -m 0644 "$here/keybridge.service" "$stage/lib/systemd/system/keybridge.service"
install -D -m 0640 "$here/keybridge.env" "$stage/etc/keybridge/keybridge.env"
install -d -m 0755 "$stage/usr/share/man/man1" "$stage/usr/share/doc/keybridge"
"$here/make-manpage.sh" "$bin" | gzip -9n >"$stage/usr/share/man/man1/keybridge.1.gz"
printf '.so man1/keybridge.1\n' | gzip -9n >"$stage/usr/share/man/man1/keybridgectl.1.gz"
install -m 0644 "$here/README.Debian" "$stage/usr/share/doc/keybridge/README.Debian"

# Depends: the Debian packages of the shared libraries the binary links (dpkg-shlibdeps wants a
# debian/control beside it; it only reads the source stanza).
mkdir -p "$work/shlibs/debian"
printf 'Source: keybridge\n\nPackage: keybridge\nArchitecture: any\n' >"$work/shlibs/debian/control"
depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$stage/usr/bin/keybridge" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-package.sh: dpkg-shlibdeps found no libraries" >&2; exit 1; }

# Besides the libraries: ca-certificates (TLS to providers is always verified), passwd (useradd in
# postinst), util-linux (setpriv in keybridgectl).
install -d -m 0755 "$stage/DEBIAN"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
printf '/etc/keybridge/keybridge.env\n' >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: keybridge
Version: $version
Architecture: $arch
Maintainer: keybridge maintainers <keybridge@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $depends, ca-certificates, passwd, util-linux
Section: net
Priority: optional
Description: fresh OAuth2 tokens from GitLab, GitHub and data providers for research sessions
 Administrators register OAuth2 clients (integrations) for GitLab, GitHub, GitHub Enterprise,
 Dropbox, Google Drive and Zenodo; users connect once; their interactive sessions get tokens
 that are always fresh through an HTTP API compatible with Renku's connected services, a git
 credential helper, a git proxy, a Docker credential helper and rclone.
CONTROL

mkdir -p "$out"
deb="$out/keybridge_${version}_$arch.deb"
# shellcheck disable=SC2086  # two words on purpose
dpkg-deb --root-owner-group ${KEYBRIDGE_DEB_COMPRESSION:--Zxz} --build "$stage" "$deb" >/dev/null
echo "$deb"
