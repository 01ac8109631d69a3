#!/bin/sh
# make-app.sh BINARY VERSION OUTDIR: assemble OUTDIR/Bore.app around a macOS
# binary (usually a universal one made with lipo). VERSION is the raw
# "git describe" string; the bundle gets a display version and a numeric
# CFBundleVersion derived from it. Signing and the .dmg come after this (see
# .github/workflows/release.yml).
set -eu
bin=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -f "$bin" ] || { echo "make-app.sh: no binary at $bin" >&2; exit 1; }
display=$(sh "$root/build/version.sh" pkg "$version")
# CFBundleVersion: up to three dot-separated integers.
bundle=$(sh "$root/build/version.sh" win "$version" | cut -d. -f1-3)

app="$out/Bore.app"
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
cp "$bin" "$app/Contents/MacOS/bore"
chmod 755 "$app/Contents/MacOS/bore"
cp "$root/assets/icons/bore.icns" "$app/Contents/Resources/bore.icns"
sed -e "s|@VERSION@|$display|g" -e "s|@BUNDLE_VERSION@|$bundle|g" "$here/Info.plist" > "$app/Contents/Info.plist"
printf 'APPL????' > "$app/Contents/PkgInfo"
echo "make-app.sh: $app ($display)"
