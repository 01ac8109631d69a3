#!/bin/sh
# test-windows.sh DIST [VERSION]: check the Windows installers in DIST under
# wine, in a fresh throw-away prefix: the NSIS installer installs silently,
# puts its files, Start Menu shortcut and Add/Remove Programs entry in place,
# the installed bore.exe starts and prints VERSION for "--version", and its
# uninstaller removes everything; then the same for the MSI with msiexec.
# While the NSIS install is in place, test-tray.sh drives the installed tray
# app on a desktop with a system tray (xfce4-panel): icon, menu, sharing a
# port through a local bore server, clipboard, launch at login, the
# single-instance lock and notifications. Its screenshots and logs stay in
# DIST/.work/wine-tray for a person to look at.
# VERSION defaults to the one make dist recorded in DIST/.work/version (the
# git describe output that "bore --version" prints).
#
# Needs: build/apt-packages-windows.txt (wine, Xvfb, mingw, xfce4-panel,
# dbus, xdotool, imagemagick, tesseract-ocr, ...), and the Linux bore binary
# that make dist leaves in DIST/.work/linux-amd64/bore.
# Go 1.22+ binaries need bcryptprimitives.dll, which wine 8.0 lacks: a
# stand-in built from wine/processprng.c goes into the prefix for this test only.
set -eu
# Run in a private network namespace when we can (root): wine then sees
# only this test's sockets. Its GetExtendedTcpTable looks up the owner of
# every socket on the host, and with tens of thousands of them (other test
# runs' TIME_WAITs) one port scan of the tray app took minutes. Everything
# here (Xvfb, the bus, the panel, wine, the bore server) talks over
# loopback or Unix sockets inside the namespace.
if [ -z "${BORE_TEST_NETNS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
	export BORE_TEST_NETNS=1
	exec unshare -n sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$@"
fi
[ -n "${BORE_TEST_NETNS:-}" ] || echo "test-windows.sh: not root: running without a private network namespace (port scans under wine may be slow)"
dist=${1:-dist}
version=${2:-$(cat "$dist/.work/version" 2>/dev/null || true)}
[ -n "$version" ] || { echo "test-windows.sh: no version given and none in $dist/.work/version: run make dist first" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)

for tool in wine wineserver Xvfb x86_64-w64-mingw32-gcc xfce4-panel dbus-daemon xdotool xwininfo import convert tesseract xclip python3 bash; do
	command -v $tool >/dev/null || {
		echo "test-windows.sh: $tool not found: apt-get install $(tr '\n' ' ' < "$here/../apt-packages-windows.txt")" >&2
		exit 1
	}
done
setup=$(ls "$dist"/bore_*_windows_amd64_setup.exe 2>/dev/null | head -n 1)
msi=$(ls "$dist"/bore_*_windows_amd64.msi 2>/dev/null | head -n 1)
[ -n "$setup" ] && [ -n "$msi" ] || { echo "test-windows.sh: no installers in $dist: run make dist first" >&2; exit 1; }
bore=$(cd "$dist" && pwd)/.work/linux-amd64/bore
[ -x "$bore" ] || { echo "test-windows.sh: no $bore: run make dist first" >&2; exit 1; }
trayout=$(cd "$dist" && pwd)/.work/wine-tray
rm -rf "$trayout"
setup=$(cd "$(dirname "$setup")" && pwd)/$(basename "$setup")
msi=$(cd "$(dirname "$msi")" && pwd)/$(basename "$msi")

tmp=$(mktemp -d)
xvfb_pid= bus_pid= panel_pid=
cleanup() {
	WINEPREFIX="$tmp/prefix" wineserver -k 2>/dev/null || true
	[ -n "$panel_pid" ] && kill "$panel_pid" 2>/dev/null || true
	[ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
	[ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A private X server on a free display: Xvfb picks it and writes it to fd 3.
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3> "$tmp/display" 2>/dev/null &
xvfb_pid=$!
i=0
while [ ! -s "$tmp/display" ]; do
	i=$((i + 1)); [ $i -le 100 ] || { echo "test-windows.sh: Xvfb did not start" >&2; exit 1; }
	sleep 0.1
done
export DISPLAY=":$(cat "$tmp/display")"

# A desktop panel with a system tray, on a private session bus (xfconf, the
# panel's settings store, needs one); its settings are seeded so that it
# shows a single panel with the tray and no first-run dialog. Only the bus
# and the panel see these XDG paths; wine gets its own.
mkdir -p "$tmp/xdg/xfce4/xfconf/xfce-perchannel-xml"
cp "$here/xfce4-panel.xml" "$tmp/xdg/xfce4/xfconf/xfce-perchannel-xml/"
XDG_CONFIG_HOME="$tmp/xdg" XDG_CACHE_HOME="$tmp/xdg-cache" \
	dbus-daemon --session --nofork --print-address=1 > "$tmp/bus" 2> "$tmp/bus.log" &
bus_pid=$!
i=0
while [ ! -s "$tmp/bus" ]; do
	i=$((i + 1)); [ $i -le 100 ] || { echo "test-windows.sh: dbus-daemon did not start" >&2; exit 1; }
	sleep 0.1
done
export DBUS_SESSION_BUS_ADDRESS="$(head -n 1 "$tmp/bus")"
XDG_CONFIG_HOME="$tmp/xdg" XDG_CACHE_HOME="$tmp/xdg-cache" xfce4-panel --disable-wm-check > "$tmp/panel.log" 2>&1 &
panel_pid=$!
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
kill -0 "$panel_pid" 2>/dev/null || { cat "$tmp/panel.log" >&2; fail "xfce4-panel is not running"; }
step "tray app: see $trayout"
bash "$here/test-tray.sh" "C:\\Program Files\\Bore\\bore.exe" "$bore" "$trayout" || fail "the tray app under wine (screenshots and logs in $trayout)"
# A refused instance that crashed on exit (see test-tray.sh) may linger.
wineserver -k 2>/dev/null || true
wineserver -w
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
