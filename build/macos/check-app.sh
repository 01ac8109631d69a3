#!/bin/sh
# check-app.sh: assemble Bore.app around a stand-in binary (darwin binaries
# cannot be built off macOS) and check its layout and Info.plist.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\necho stand-in\n' > "$tmp/bore"
sh "$here/make-app.sh" "$tmp/bore" v1.2.3-4-gabc1234 "$tmp" >/dev/null
app="$tmp/Bore.app/Contents"
for f in MacOS/bore Resources/bore.icns Info.plist PkgInfo; do
	[ -f "$app/$f" ] || { echo "check-app.sh: Bore.app lacks Contents/$f" >&2; exit 1; }
done
[ -x "$app/MacOS/bore" ] || { echo "check-app.sh: Contents/MacOS/bore is not executable" >&2; exit 1; }
python3 "$here/check-plist.py" "$app/Info.plist"
grep -q '<string>1.2.3+4.gabc1234</string>' "$app/Info.plist" || { echo "check-app.sh: display version not filled in" >&2; exit 1; }
grep -q '<string>1.2.3</string>' "$app/Info.plist" || { echo "check-app.sh: bundle version not filled in" >&2; exit 1; }
echo "check-app.sh: ok"
