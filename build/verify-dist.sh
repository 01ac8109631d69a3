#!/bin/sh
# verify-dist.sh [DIST] [VERSION]: check what "make dist" built, the way a
# user would meet it. Run as root on a Debian-like system: it installs the
# amd64 .deb with apt and purges it again.
#   - SHA256SUMS verifies;
#   - the rpm's and Arch package's file lists match the deb's (both arches);
#   - the .deb installs, "bore --version" prints VERSION, the installed
#     .desktop file and AppStream metainfo validate, bore-server.service is
#     installed but not enabled;
#   - "apt-get purge" leaves no file behind (file lists before and after);
#   - the macOS bundle script yields an Info.plist with the required keys.
# VERSION defaults to the one make dist recorded in DIST/.work/version.
# Needs the packages in build/apt-packages.txt.
set -eu
dist=${1:-dist}
version=${2:-$(cat "$dist/.work/version" 2>/dev/null || true)}
here=$(cd "$(dirname "$0")" && pwd)
[ -n "$version" ] || { echo "verify-dist.sh: no version given and none in $dist/.work/version: run make dist first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "verify-dist.sh: run as root (it installs and purges the .deb)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step() { echo "verify-dist.sh: $*"; }
fail() { echo "verify-dist.sh: FAIL: $*" >&2; exit 1; }
one() { # one GLOB: the single file matching GLOB in dist
	set -- $dist/$1
	[ $# = 1 ] && [ -f "$1" ] || fail "want exactly one $dist file matching the pattern, found: $*"
	echo "$1"
}

step "SHA256SUMS"
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not verify"
for f in "$dist"/*; do
	[ -f "$f" ] && [ "$(basename "$f")" != SHA256SUMS ] || continue
	grep -q " $(basename "$f")\$" "$dist/SHA256SUMS" || fail "$(basename "$f") is missing from SHA256SUMS"
done

step "package file lists"
for arch in amd64 arm64; do
	case $arch in amd64) rarch=x86_64 ;; arm64) rarch=aarch64 ;; esac
	deb=$(one "bore_*_$arch.deb")
	rpm=$(one "bore-*.$rarch.rpm")
	pkg=$(one "bore-*-$rarch.pkg.tar.zst")
	# Regular files and symlinks only: formats differ in which directories they list.
	dpkg-deb --fsys-tarfile "$deb" | tar -tv | awk '$1 !~ /^d/ {print $NF}' | sed 's|^\./|/|' | LC_ALL=C sort > "$tmp/deb"
	rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null | awk '$1 !~ /^d/ {print $2}' | LC_ALL=C sort > "$tmp/rpm"
	tar --zstd -tvf "$pkg" | awk '$1 !~ /^d/ {print $NF}' | grep -v '^\.[A-Z]' | sed 's|^|/|' | LC_ALL=C sort > "$tmp/arch"
	[ -s "$tmp/deb" ] || fail "$deb lists no files"
	diff -u "$tmp/deb" "$tmp/rpm" || fail "$rpm and $deb hold different files"
	diff -u "$tmp/deb" "$tmp/arch" || fail "$pkg and $deb hold different files"
	grep -qx /usr/bin/bore "$tmp/deb" || fail "$deb has no /usr/bin/bore"
done
for want in /usr/share/applications/io.github.boretray.bore.desktop \
	/usr/share/metainfo/io.github.boretray.bore.metainfo.xml \
	/usr/share/icons/hicolor/scalable/apps/io.github.boretray.bore.svg \
	/usr/share/icons/hicolor/16x16/apps/io.github.boretray.bore.png \
	/usr/share/icons/hicolor/512x512/apps/io.github.boretray.bore.png \
	/usr/share/doc/bore/copyright /usr/share/doc/bore/changelog.gz \
	/usr/lib/systemd/system/bore-server.service; do
	grep -qx "$want" "$tmp/deb" || fail "the packages lack $want"
done

deb=$(one "bore_*_amd64.deb")
fields=$(dpkg-deb -f "$deb" Recommends Suggests)
printf '%s\n' "$fields" | grep -q '^Recommends:.*xclip | xsel | wl-clipboard' || fail "Recommends lacks the clipboard tools: $fields"
printf '%s\n' "$fields" | grep -q '^Suggests:.*gnome-shell-extension-appindicator' || fail "Suggests lacks the AppIndicator extension: $fields"
printf '%s\n' "$fields" | grep -q '^Recommends:.*gnome-shell' && fail "Recommends must not pull GNOME Shell: $fields"

if dpkg -s bore >/dev/null 2>&1; then
	fail "a bore package is already installed; remove it first so the before/after comparison means something"
fi
# snapshot lists what packages own on disk, minus apt's and dpkg's own books.
snapshot() {
	find /usr /etc /opt /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/systemd \
		-o -path /var/cache -o -path /var/log -o -path /etc/ld.so.cache -o -path '*/__pycache__' \) -prune -o -print |
		LC_ALL=C sort
}
apt() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"; }

step "installing $(basename "$deb")"
snapshot > "$tmp/before"
# Without Recommends: the clipboard tools would stay behind after the purge
# and blur the comparison (they are checked in the control file above).
DEBIAN_FRONTEND=noninteractive apt install --no-install-recommends "./$deb" > "$tmp/apt.log" 2>&1 ||
	{ cat "$tmp/apt.log" >&2; fail "apt-get install ./$deb failed"; }
out=$(/usr/bin/bore --version 2>&1) || fail "bore --version exited $?: $out"
printf '%s\n' "$out" | grep -qF "$version" || fail "bore --version printed \"$out\", want a line containing $version"
step "bore --version: $out"
desktop-file-validate /usr/share/applications/io.github.boretray.bore.desktop || fail "installed .desktop file does not validate"
grep -qx 'Exec=bore tray' /usr/share/applications/io.github.boretray.bore.desktop || fail "the .desktop file does not start the tray"
if command -v appstreamcli >/dev/null; then
	appstreamcli validate --no-net /usr/share/metainfo/io.github.boretray.bore.metainfo.xml >/dev/null ||
		fail "installed AppStream metainfo does not validate"
fi
[ ! -e /etc/systemd/system/multi-user.target.wants/bore-server.service ] || fail "bore-server.service got enabled by the install"

step "purging"
DEBIAN_FRONTEND=noninteractive apt purge bore > "$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get purge bore failed"; }
snapshot > "$tmp/after"
diff -u "$tmp/before" "$tmp/after" || fail "install + purge left the differences above"

step "macOS bundle"
sh "$here/macos/check-app.sh" >/dev/null || fail "macOS bundle check failed"
step ok
