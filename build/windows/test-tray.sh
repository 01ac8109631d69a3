#!/usr/bin/env bash
# test-tray.sh EXE BORE OUT: drive the Windows tray app EXE (a Windows path
# inside $WINEPREFIX) under wine the way a user would, on the X display
# $DISPLAY where xfce4-panel with its system tray runs (test-windows.sh sets
# that up). BORE is the Linux bore binary (runs the server); OUT a folder for
# screenshots and logs, kept for a person to look at.
#
# It checks, failing on the first problem:
# - the icon wine docks from Shell_NotifyIcon into the panel's XEmbed tray
#   (an explorer.exe window inside the panel, and its colours on screen);
# - a left click opens the menu (a new bore.exe pop-up window);
# - "Share a port" lists a loopback echo service's port (wine's
#   GetExtendedTcpTable reads the host's sockets); clicking it opens a
#   tunnel through a local "bore server", the address lands on the X
#   clipboard (wine bridges the Windows clipboard to X selections) and the
#   tunnel carries bytes;
# - Preferences > Launch at login writes the HKCU Run value, and clicking it
#   again removes it;
# - a second instance is refused by the single-instance lock and exits;
# - what a failed notification does (wine has no toast service): it must be
#   logged, not shown, and must not stop the app.
# Menu entries are found by their text with tesseract OCR, so the test does
# not depend on the menu's order.
#
# Needs: wine, xdotool, imagemagick, x11-utils, xclip, tesseract-ocr, python3.
set -euo pipefail
exe=$1 bore=$2 out=$3
mkdir -p "$out"
step() { echo "test-tray.sh: $*"; }
fail() {
	echo "test-tray.sh: FAIL: $*" >&2
	shot "$out/fail.png" || true
	xwininfo -root -tree > "$out/fail-tree.txt" 2>&1 || true
	echo "test-tray.sh: screenshots and logs in $out" >&2
	for f in "$out"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
	exit 1
}
shot() { import -window root "$1"; }

pids=()
nt='HKLM\Software\Microsoft\Windows NT\CurrentVersion'
cleanup() {
	wine reg delete "$nt" /v CurrentMajorVersionNumber /f >/dev/null 2>&1 || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# poll DEADLINE_S CMD...: run CMD until it succeeds or the deadline passes.
poll() {
	local end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# free_port prints a port that was free on 127.0.0.1 a moment ago.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A loopback echo service the app should list under "Share a port".
python3 -u -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16); print(s.getsockname()[1], flush=True)
def serve(c):
    while True:
        b = c.recv(65536)
        if not b: break
        c.sendall(b)
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
' > "$out/echo.port" 2> "$out/echo.log" &
pids+=($!)
poll 10 test -s "$out/echo.port" || fail "the echo service did not start"
echo_port=$(cat "$out/echo.port")

# Our own bore server on loopback (never a public one).
ctl=$(free_port)
"$bore" server --bind-addr 127.0.0.1 --bind-tunnels 127.0.0.1 --control-port "$ctl" \
	--min-port 20000 --max-port 60000 > "$out/server.log" 2>&1 &
pids+=($!)
poll 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ctl" 2>/dev/null || fail "bore server did not listen on 127.0.0.1:$ctl"
step "echo service on 127.0.0.1:$echo_port, bore server on 127.0.0.1:$ctl"

# Settings in the app's config dir inside the prefix (%LOCALAPPDATA%\bore).
user_dir="$WINEPREFIX/drive_c/users/$(whoami)"
conf="$user_dir/AppData/Local/bore/config.json"
mkdir -p "$(dirname "$conf")"
cat > "$conf" <<EOF
{"version": 1, "current_server": "127.0.0.1:$ctl",
 "servers": [{"host": "127.0.0.1", "control_port": $ctl}],
 "favorites": [], "copy_on_open": true, "notifications": false}
EOF

# Notifications, as seen under wine 8.0: this prefix says Windows 7
# (CurrentVersion 6.1), so beeep shows a balloon from a second, short-lived
# tray icon of its own. When the app quit while that icon was up, it was
# seen to hang under wine, so the main instance runs with notifications
# off; the refused second instance below notifies anyway (that path ignores
# the setting) and shows the balloon. The Windows 10 path is tried at the
# end.
# The app must not see the Unix XDG variables (adrg/xdg honours them on
# Windows too): it would look for its files under Unix paths.
run_app() {
	env -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u XDG_RUNTIME_DIR -u XDG_DATA_HOME \
		WINEDEBUG=-all wine "$exe" "$@"
}
run_app tray > "$out/app.log" 2>&1 &
app_pid=$!
pids+=($app_pid)

# geom WINDOW: prints "WINDOW W H X Y" (size and position on the screen).
geom() {
	local WINDOW X Y WIDTH HEIGHT SCREEN
	eval "$(xdotool getwindowgeometry --shell "$1")"
	echo "$1 $WIDTH $HEIGHT $X $Y"
}

# The icon: wine's explorer.exe docks a small window into the panel's tray
# (it is a child of the panel's window, not a top-level one).
icon_geom() {
	local w W H X Y
	for w in $(xdotool search --onlyvisible --classname explorer.exe 2>/dev/null); do
		read -r _ W H X Y <<<"$(geom "$w")"
		if [ "$W" -ge 16 ] && [ "$W" -le 48 ] && [ "$H" -ge 16 ] && [ "$H" -le 48 ] &&
			! [[ $(xwininfo -id "$w" -tree) == *"Parent window id: "*"(the root window)"* ]]; then
			echo "$w $W $H $X $Y"; return 0
		fi
	done
	return 1
}
has_icon() { icon_geom >/dev/null; }
poll 60 has_icon || fail "no tray icon docked in the panel within 60 s"
read -r iwin iw ih ix iy <<<"$(icon_geom)"
cx=$((ix + iw / 2)) cy=$((iy + ih / 2))
xwininfo -id "$iwin" -tree > "$out/icon-window.txt"
sleep 1 # let the panel paint the icon once; nothing waits on this
shot "$out/01-icon.png"
# The idle icon is grey #868E96: some of its pixels must be on screen there.
n=$(convert "$out/01-icon.png" -crop "${iw}x${ih}+${ix}+${iy}" +repage -fuzz 12% -fill black +opaque '#868E96' \
	-fill white -opaque '#868E96' -format '%[fx:round(mean*w*h)]' info:)
[ "$n" -ge 10 ] || fail "the docked icon at $ix,$iy shows no Bore grey ($n pixels)"
step "icon docked in the panel at $ix,$iy (${iw}x${ih}), $n Bore-grey pixels"

# popups prints "WINDOW W H X Y" for each visible bore.exe pop-up (menus),
# oldest first.
popups() {
	local w W H X Y
	for w in $(xdotool search --onlyvisible --classname bore.exe 2>/dev/null); do
		read -r _ W H X Y <<<"$(geom "$w")"
		[ "$W" -gt 40 ] && [ "$H" -gt 20 ] && echo "$w $W $H $X $Y"
	done
}

# click WINDOW X Y: click at X,Y on the screen, delivered to WINDOW. Under
# Xvfb, wine's windows get no XTEST clicks (xdotool click without
# --window): neither the docked icon nor the menus react to them, while
# events sent to the window itself arrive like a real click.
click() {
	xdotool mousemove "$2" "$3" sleep 0.1 click --window "$1" 1
}

# ocr_words prints the words the last ocr_find read, in order.
ocr_words() { tr '\t' ' ' < "$out/ocr.tsv" | awk 'NR > 1 && $12 != "" {printf "%s ", $12}'; }

# ocr_find "WINDOW W H X Y" TEXT: find TEXT on the screen inside that window
# with tesseract; prints its centre on the screen.
ocr_find() {
	local text=$2 img=$out/ocr.png w h x y
	read -r _ w h x y <<<"$1"
	shot "$out/ocr-full.png"
	convert "$out/ocr-full.png" -crop "${w}x${h}+$x+$y" +repage -colorspace Gray -filter Lanczos -resize 400% "$img"
	tesseract "$img" "$out/ocr" --psm 6 tsv >/dev/null 2>&1
	python3 - "$out/ocr.tsv" "$text" "$x" "$y" <<'PY'
# Pick the OCR line that best matches the wanted label (OCR misreads a
# letter now and then: "Share @ port"); a number must match a word exactly.
import sys, collections, difflib, re
path, want, ox, oy = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
norm = lambda t: re.sub(r"[^a-z0-9]", "", t.lower().replace("@", "a"))
lines = collections.OrderedDict()
for row in open(path).read().splitlines()[1:]:
    f = row.split("\t")
    if len(f) < 12 or not f[11].strip():
        continue
    lines.setdefault((f[2], f[3], f[4]), []).append((f[11], int(f[6]), int(f[7]), int(f[8]), int(f[9])))
best, score = None, 0.0
for words in lines.values():
    if want.isdigit():
        hit = [w for w in words if norm(w[0]) == want]
        if hit:
            best, score = hit, 1.0
            break
        continue
    joined = "".join(norm(w[0]) for w in words)
    r = difflib.SequenceMatcher(None, norm(want), joined[:len(norm(want)) + 2]).ratio()
    if r > score:
        best, score = words, r
if best is None or score < 0.75:
    sys.exit(1)
if not want.isdigit():  # the label's own words, not the submenu arrow
    n = len(want.split())
    best = best[:n]
l = min(w[1] for w in best); t = min(w[2] for w in best)
r = max(w[1] + w[3] for w in best); b = max(w[2] + w[4] for w in best)
print(ox + (l + r) // 8, oy + (t + b) // 8)
PY
}

open_menu() {
	# The icon moves when other icons come and go (beeep's notification
	# adds one for a while): click it where it is now.
	# Right after a menu closed, wine sometimes drops the next click on the
	# icon: try a few times.
	local try
	for try in 1 2 3; do
		read -r _ iw ih ix iy <<<"$(geom "$iwin")"
		click "$iwin" $((ix + iw / 2)) $((iy + ih / 2))
		poll 4 test -n "$(popups)" && break
		[ $try -lt 3 ] || fail "no menu opened on three clicks on the icon"
		step "no menu after click $try on the icon; clicking again"
	done
	menu=$(popups | tail -n 1)
}

# click_entry "WINDOW W H X Y" TEXT: click the entry whose label holds TEXT
# in that menu.
click_entry() {
	local at
	at=$(ocr_find "$1" "$2") || fail "no \"$2\" in the menu $1 (see $out/ocr.png, $out/ocr.tsv)"
	click "${1%% *}" ${at% *} ${at#* }
}

# close_menus presses Escape in the innermost menu until none is open.
close_menus() {
	local end=$(( $(date +%s) + 10 )) w
	while w=$(popups | tail -n 1 | cut -d' ' -f1) && [ -n "$w" ]; do
		[ "$(date +%s)" -lt "$end" ] || fail "the menu did not close on Escape"
		xdotool key --window "$w" Escape 2>/dev/null || true
		sleep 0.3
	done
}

step "opening the menu"
open_menu
shot "$out/02-menu.png"
step "menu open at $menu"

step "Share a port"
# The app rescans the listening ports every few seconds: reopen the
# submenu until the echo service's port is listed. Under wine a scan reads
# the whole host's TCP table and looks up each socket's owner: with tens of
# thousands of sockets (other test runs' TIME_WAITs) one scan took over a
# minute here; on a quiet machine it takes about a second.
end=$(( $(date +%s) + 150 ))
while :; do
	before=$(popups | wc -l)
	click_entry "$menu" "Share a port"
	poll 10 test "$(popups | wc -l)" -gt "$before" || fail "\"Share a port\" opened no submenu"
	sub=$(popups | tail -n 1)
	shot "$out/03-share.png"
	at=$(ocr_find "$sub" "$echo_port") && break
	[ "$(date +%s)" -lt "$end" ] || fail "port $echo_port never showed under \"Share a port\" (see $out/03-share.png); the submenu read: $(ocr_words)"
	close_menus
	sleep 3
	open_menu
done
step "the port list under wine: $(ocr_words)"
xclip -selection clipboard -i /dev/null 2>/dev/null || true
click "${sub%% *}" ${at% *} ${at#* }

addr=
got_addr() {
	addr=$(xclip -o -selection clipboard 2>/dev/null | tr -d '\r' || true)
	[[ $addr == 127.0.0.1:* ]]
}
poll 30 got_addr || fail "no tunnel address on the clipboard (it holds \"$addr\"); server log: $(tail -n 5 "$out/server.log")"
step "clipboard holds $addr"
# echo_through PORT: send 18000 bytes through the tunnel, expect them back.
echo_through() {
	python3 - "$1" <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
msg = b"bore through wine " * 1000
c.sendall(msg); c.shutdown(socket.SHUT_WR)
got = b""
while len(got) < len(msg):
    b = c.recv(65536)
    if not b: break
    got += b
print("ok" if got == msg else "short %d of %d" % (len(got), len(msg)))
PY
}
# The app dials "localhost"; under wine that lookup has been seen to time
# out now and then on a loaded machine (the app then turns that visitor
# away and says so): a later visitor must get through.
for try in 1 2 3; do
	reply=$(echo_through "${addr#*:}") || reply="no connection"
	[ "$reply" = ok ] && break
	step "visitor $try through $addr: $reply; app says: $(grep -m1 'could not reach' "$out/app.log" | tr -d '\r' || echo nothing)"
done
[ "$reply" = ok ] || fail "the tunnel at $addr echoed wrong data three times: $reply"
step "the tunnel carries bytes both ways (18000 bytes echoed through $addr)"
sleep 0.5
shot "$out/04-tunnel.png"

run_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
run_value() { wine reg query "$run_key" /v Bore 2>/dev/null | tr -d '\r' | grep -i 'bore'; }
no_run_value() { ! run_value >/dev/null; }
toggle_login() {
	open_menu
	local before
	before=$(popups | wc -l)
	click_entry "$menu" "Preferences"
	poll 10 test "$(popups | wc -l)" -gt "$before" || fail "\"Preferences\" opened no submenu"
	shot "$out/$1"
	click_entry "$(popups | tail -n 1)" "Launch at login"
}
step "Launch at login: on"
toggle_login 05-prefs.png
poll 20 run_value >/dev/null || fail "Launch at login wrote no $run_key\\Bore value"
val=$(run_value)
step "Run value: $(echo "$val" | sed 's/^ *//')"
case $val in *bore.exe*tray*) ;; *) fail "the Run value does not start bore.exe tray: $val" ;; esac
step "Launch at login: off"
toggle_login 06-prefs-on.png
poll 20 no_run_value || fail "Launch at login stayed in the registry after unchecking it"
step "Run value removed"

step "second instance"
rc=0
timeout 60 env -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u XDG_RUNTIME_DIR -u XDG_DATA_HOME \
	WINEDEBUG=-all wine "$exe" tray > "$out/second.log" 2>&1 || rc=$?
grep -q "already running" "$out/second.log" || fail "the second instance did not say it is already running (exit $rc)"
[ $rc -eq 0 ] || fail "the second instance exited $rc"
kill -0 "$app_pid" 2>/dev/null || fail "the first instance died when a second one started"
step "second instance refused: $(grep -m1 'already running' "$out/second.log" | tr -d '\r')"
# Go 1.21+ needs Windows 10 or later, where beeep shows WinRT toasts: say
# Windows 10 and refuse another instance. wine has no WinRT toast classes
# (REGDB_E_CLASSNOTREG), so the notification fails: it must be logged, and
# nothing else may show. A wine-only after-effect: at exit, wine's COM
# teardown calls back into the class factory go-toast registered and the
# Go runtime aborts ("fatal error: exitsyscall"), so the process is ended
# by the timeout here.
step "second instance with Windows 10 notifications (WinRT toasts, missing in wine)"
wine reg add "$nt" /v CurrentMajorVersionNumber /t REG_DWORD /d 10 /f >/dev/null 2>&1
rc=0
timeout 30 env -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u XDG_RUNTIME_DIR -u XDG_DATA_HOME \
	WINEDEBUG=-all wine "$exe" tray > "$out/second-win10.log" 2>&1 || rc=$?
wine reg delete "$nt" /v CurrentMajorVersionNumber /f >/dev/null 2>&1
grep -q "already running" "$out/second-win10.log" || fail "the second instance (Windows 10) did not refuse (exit $rc)"
warn=$(grep -m1 "could not show a notification" "$out/second-win10.log" | tr -d '\r' || true)
[ -n "$warn" ] || fail "the failed toast was not logged (see $out/second-win10.log)"
step "its failed toast was logged: ${warn#*WARN }"
if grep -q "fatal error" "$out/second-win10.log"; then
	step "wine limitation: it then crashed on exit ($(grep -m1 'fatal error' "$out/second-win10.log"), exit $rc)"
fi
kill -0 "$app_pid" 2>/dev/null || fail "the first instance died when a second one failed to notify"
shot "$out/07-after-second.png"

step "Quit"
open_menu
click_entry "$menu" "Quit"
poll 20 grep -q quitting "$out/app.log" || fail "the app did not start quitting after Quit"
icon_gone() { ! xdotool getwindowgeometry "$iwin" >/dev/null 2>&1 || ! [[ $(xwininfo -id "$iwin" 2>/dev/null) == *IsViewable* ]]; }
poll 20 icon_gone || fail "the tray icon is still there after Quit"
shot "$out/08-after-quit.png"
if poll 20 bash -c "! kill -0 $app_pid 2>/dev/null"; then
	step "the icon is gone and the app exited"
elif grep -q 'INFO notification' "$out/app.log"; then
	# Seen under wine only: after beeep showed a balloon (its own hidden
	# window and tray icon, here for the "visitor turned away" alert), the
	# process does not finish exiting: wine's exit path calls into that
	# window's Go callbacks. The tray itself is gone.
	step "wine limitation: the icon is gone, but after a notification the process did not finish exiting; ending it"
	kill "$app_pid" 2>/dev/null || true
	wineserver -k
else
	fail "the app did not exit after Quit"
fi
no_run_value || fail "the Run value is back after Quit"

step "ok"
