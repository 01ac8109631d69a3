#!/bin/sh
# test-windows.sh DIST [VERSION]: check the Windows installers in DIST under
# wine, in a fresh throw-away prefix: the NSIS installer installs silently,
# puts its files, Start Menu shortcut and Add/Remove Programs entry in place,
# the installed bore.exe starts and prints VERSION for "--version", and its
# uninstaller removes everything; then the same for the MSI with msiexec.
# VERSION defaults to the one make dist recorded in DIST/.work/version (the
# git describe output that "bore --version" prints).
#
# Needs: wine wine64 xvfb xauth gcc-mingw-w64-x86-64-win32 (build/apt-packages-windows.txt).
# Go 1.22+ binaries need bcryptprimitives.dll, which wine 8.0 lacks: a
# stand-in built from wine/processprng.c goes into the prefix for this test only.
set -eu
dist=${1:-dist}
version=${2:-$(cat "$dist/.work/version" 2>/dev/null || true)}
[ -n "$version" ] || { echo "test-windows.sh: no version given and none in $dist/.work/version: run make dist first" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)

for tool in wine wineserver Xvfb x86_64-w64-mingw32-gcc; do
	command -v $tool >/dev/null || {
		echo "test-windows.sh: $tool not found: apt-get install $(tr '\n' ' ' < "$here/../apt-packages-windows.txt")" >&2
		exit 1
	}
done
setup=$(ls "$dist"/bore_*_windows_amd64_setup.exe 2>/dev/null | head -n 1)
msi=$(ls "$dist"/bore_*_windows_amd64.msi 2>/dev/null | head -n 1)
[ -n "$setup" ] && [ -n "$msi" ] || { echo "test-windows.sh: no installers in $dist: run make dist first" >&2; exit 1; }
setup=$(cd "$(dirname "$setup")" && pwd)/$(basename "$setup")
msi=$(cd "$(dirname "$msi")" && pwd)/$(basename "$msi")

tmp=$(mktemp -d)
xvfb_pid=
cleanup() {
	WINEPREFIX="$tmp/prefix" wineserver -k 2>/dev/null || true
	[ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A private X server on a free display: Xvfb picks it and writes it to fd 3.
Xvfb -displayfd 3 -screen 0 800x600x24 -nolisten tcp 3> "$tmp/display" 2>/dev/null &
xvfb_pid=$!
i=0
while [ ! -s "$tmp/display" ]; do
	i=$((i + 1)); [ $i -le 100 ] || { echo "test-windows.sh: Xvfb did not start" >&2; exit 1; }
	sleep 0.1
done
export DISPLAY=":$(cat "$tmp/display")"
export WINEPREFIX="$tmp/prefix" WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="

step() { echo "test-windows.sh: $*"; }
fail() { echo "test-windows.sh: FAIL: $*" >&2; exit 1; }

step "creating a wine prefix"
wineboot -i >/dev/null 2>&1
wineserver -w
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
	"$here/wine/processprng.c" -ladvapi32 -Wl,--kill-at

pf="$WINEPREFIX/drive_c/Program Files/Bore"
lnk="$WINEPREFIX/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/Bore.lnk"
uninst='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Bore'

# snapshot lists the prefix's files and registry, minus what wine and msiexec
# themselves churn (temp files, logs, the MSI cache in C:\windows\Installer).
snapshot() {
	(cd "$WINEPREFIX/drive_c" && find . \( -path ./users -o -path ./windows/temp -o -path ./windows/logs -o -path ./windows/Installer \) -prune -o -print | LC_ALL=C sort)
	wine reg query 'HKLM\Software' /s 2>/dev/null | tr -d '\r' | grep -i 'bore' || true
}

check_version() {
	out=$(wine "C:\\Program Files\\Bore\\bore.exe" --version 2>&1 | tr -d '\r') || fail "bore.exe --version exited $?: $out"
	printf '%s\n' "$out" | grep -qF "$version" || fail "bore.exe --version printed \"$out\", want a line containing $version"
	step "bore.exe --version: $out"
}

snapshot > "$tmp/before"

step "NSIS: silent install of $(basename "$setup")"
wine "$setup" /S
wineserver -w
for f in bore.exe bore.ico uninstall.exe; do [ -f "$pf/$f" ] || fail "NSIS did not install $f"; done
[ -f "$lnk" ] || fail "NSIS made no Start Menu shortcut"
wine reg query "$uninst" /v DisplayName 2>/dev/null | grep -q Bore || fail "no Add/Remove Programs entry"
wine reg query "$uninst" /v UninstallString >/dev/null 2>&1 || fail "no UninstallString"
wine reg query "$uninst" /v DisplayVersion 2>/dev/null | tr -d '\r' | grep -q '[0-9]' || fail "no DisplayVersion"
check_version
wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' 2>/dev/null | grep -qi bore && fail "the installer set Bore to start at login"
step "NSIS: silent uninstall"
# The uninstaller copies itself to %TEMP% and returns at once: wait for wineserver.
wine "C:\\Program Files\\Bore\\uninstall.exe" /S
wineserver -w
[ ! -e "$pf" ] || fail "uninstaller left $(ls "$pf")"
[ ! -e "$lnk" ] || fail "uninstaller left the Start Menu shortcut"
wine reg query "$uninst" >/dev/null 2>&1 && fail "uninstaller left the Add/Remove Programs entry"
snapshot > "$tmp/after"
diff "$tmp/before" "$tmp/after" || fail "NSIS install + uninstall left the differences above"

step "MSI: msiexec /i $(basename "$msi") /qn"
wine msiexec /i "$msi" /qn
wineserver -w
[ -f "$pf/bore.exe" ] || fail "MSI did not install bore.exe"
# The MSI sets ALLUSERS=1, yet wine's msiexec puts the shortcut in the user's
# Start Menu; Windows puts it in the all-users one. Accept either here.
userlnk="$WINEPREFIX/drive_c/users/$(whoami)/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Bore.lnk"
[ -f "$lnk" ] || [ -f "$userlnk" ] || fail "MSI made no Start Menu shortcut"
check_version
step "MSI: msiexec /x /qn"
wine msiexec /x "$msi" /qn
wineserver -w
[ ! -e "$pf" ] || fail "MSI uninstall left $(ls "$pf")"
[ ! -e "$lnk" ] && [ ! -e "$userlnk" ] || fail "MSI uninstall left the Start Menu shortcut"
snapshot > "$tmp/after-msi"
diff "$tmp/before" "$tmp/after-msi" || fail "MSI install + uninstall left the differences above"

step "ok in $(( $(date +%s) - start )) s"
