#!/usr/bin/env bash
# measure-idle.sh BIN [SECONDS]: start the tray app (BIN, e.g. bin/bore) on a
# private session bus with three tunnels open to a bore server on loopback,
# let it settle, then print its resident memory and the CPU it used while
# idle for SECONDS (default 30). Needs dbus-daemon and ss (iproute2).
# Used by "make bench"; everything it starts is stopped on exit.
set -euo pipefail

bin=$(realpath "${1:?usage: measure-idle.sh BIN [SECONDS]}")
secs=${2:-30}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

export HOME=$work XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache XDG_RUNTIME_DIR=$work/run
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/bore"
chmod 700 "$XDG_RUNTIME_DIR"
unset DISPLAY WAYLAND_DISPLAY

# wait_for DESC CMD...: poll CMD for up to 20 s.
wait_for() {
	local desc=$1; shift
	for _ in $(seq 200); do "$@" && return 0; sleep 0.1; done
	echo "measure-idle: timed out waiting for $desc" >&2
	exit 1
}

dbus-daemon --session --nofork --print-address=1 >"$work/bus" &
pids+=($!)
wait_for "dbus-daemon" test -s "$work/bus"
export DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$work/bus")

# A free loopback port for the server's control connection.
ctl=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" server --bind-addr 127.0.0.1 --bind-tunnels 127.0.0.1 --control-port "$ctl" >"$work/server.log" 2>&1 &
pids+=($!)
wait_for "the bore server" bash -c "ss -ltn | grep -q '127.0.0.1:$ctl '"

# Three favorites started at launch: no clicks needed. Notifications and
# copy-on-open are off so the measurement sees the app alone.
cat >"$XDG_CONFIG_HOME/bore/config.json" <<JSON
{
  "version": 1,
  "current_server": "127.0.0.1:$ctl",
  "servers": [{"host": "127.0.0.1", "control_port": $ctl}],
  "favorites": [
    {"name": "a", "local_host": "127.0.0.1", "local_port": 3000, "server": "127.0.0.1:$ctl"},
    {"name": "b", "local_host": "127.0.0.1", "local_port": 3001, "server": "127.0.0.1:$ctl"},
    {"name": "c", "local_host": "127.0.0.1", "local_port": 3002, "server": "127.0.0.1:$ctl"}
  ],
  "start_favorites_at_launch": true,
  "copy_on_open": false,
  "notifications": false
}
JSON

"$bin" tray >"$work/tray.log" 2>&1 &
app=$!
pids+=($app)
count_tunnels() { ss -tnH state established "( dport = :$ctl )" | wc -l; }
wait_for "three tunnels" bash -c "[ \$(ss -tnH state established '( dport = :$ctl )' | wc -l) -ge 3 ]"
# Let start-up work (first port scan, probes) finish before measuring.
sleep 2

ticks() { awk '{print $14 + $15}' "/proc/$app/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
sleep "$secs"
t1=$(ticks)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$app/status")
echo "tunnels open:   $(count_tunnels)"
echo "idle CPU:       $(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.2f%% (%d ticks in %d s)", 100*d/(hz*s), d, s}')"
echo "resident (RSS): $((rss / 1024)) MB ($rss kB)"
