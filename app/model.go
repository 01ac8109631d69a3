// Package app is the tray app's model and controller: what the menu shows
// (Render, a pure function of a Model) and what a click does (Controller). It
// knows nothing of the tray library; app/tray draws the View it produces and
// turns clicks back into Intents, so everything here is tested without a
// desktop.
package app

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

// Port is a TCP port listening on this machine, offered in "Share a port".
type Port struct {
	// Port is the port number.
	Port uint16
	// Addr is the address it is bound to ("127.0.0.1", "::", ...).
	Addr string
	// Process is the owning program's name, or "" when the OS does not say.
	Process string
}

// Reach is the result of probing a server's control port.
type Reach struct {
	// RTT is how long the TCP connect took, when Err is "".
	RTT time.Duration
	// Err says why the server is unreachable; "" means reachable.
	Err string
}

// Model is the whole state the menu is drawn from. The Controller owns it;
// Render only reads it.
type Model struct {
	// Version is the app's version, shown in About.
	Version string
	// Settings are the saved settings (servers, favorites, preferences).
	Settings settings.Settings
	// Snapshot is the engine's latest report.
	Snapshot tunnel.Snapshot
	// Ports are the TCP ports listening now.
	Ports []Port
	// Reach holds the last probe result per server key; a missing key means
	// not probed yet.
	Reach map[string]Reach
	// StopAfter is the "Stop after" duration chosen per tunnel.
	StopAfter map[tunnel.TunnelID]time.Duration
	// FavoriteTunnels maps a favorite's key (FavoriteKey) to the tunnel
	// running it.
	FavoriteTunnels map[string]tunnel.TunnelID
}

// FavoriteKey identifies a favorite by what it shares and where: names are
// for people and need not be unique.
func FavoriteKey(f settings.Favorite) string {
	return net.JoinHostPort(localHost(f.LocalHost), strconv.Itoa(int(f.LocalPort))) + "@" + f.Server
}

// favoriteOf returns the key of the favorite running tunnel id, if any.
func (m Model) favoriteOf(id tunnel.TunnelID) (string, bool) {
	for k, tid := range m.FavoriteTunnels {
		if tid == id {
			return k, true
		}
	}
	return "", false
}

// matchingFavorite returns the key of a saved favorite that shares the same
// local service through the same server as st.
func (m Model) matchingFavorite(st tunnel.Status) (string, bool) {
	if k, ok := m.favoriteOf(st.ID); ok {
		return k, true
	}
	for _, f := range m.Settings.Favorites {
		srv, ok := m.Settings.Server(f.Server)
		if !ok {
			continue
		}
		if localHost(f.LocalHost) == localHost(st.LocalHost) && f.LocalPort == st.LocalPort &&
			srv.Host == st.Server && srv.Port() == controlPort(st.ControlPort) {
			return FavoriteKey(f), true
		}
	}
	return "", false
}

func controlPort(p uint16) uint16 {
	if p == 0 {
		return tunnel.DefaultControlPort
	}
	return p
}

func localHost(h string) string {
	if h == "" {
		return "localhost"
	}
	return h
}

// localAddr is the local side of a tunnel as shown to people.
func localAddr(st tunnel.Status) string {
	return net.JoinHostPort(localHost(st.LocalHost), strconv.Itoa(int(st.LocalPort)))
}

// publicURL is the tunnel's address as an http URL.
func publicURL(st tunnel.Status) string {
	return "http://" + st.PublicAddr()
}

// formatBytes renders a byte count the way people read it: "0 B", "340 KB",
// "1.2 MB" (decimal units, one decimal below 10).
func formatBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KB", "MB", "GB", "TB", "PB"}
	v := float64(n)
	u := -1
	for v >= 1000 && u < len(units)-1 {
		v /= 1000
		u++
	}
	if v < 9.95 {
		return fmt.Sprintf("%.1f %s", v, units[u])
	}
	return fmt.Sprintf("%.0f %s", v, units[u])
}

// formatRTT renders a probe time: "42 ms", "<1 ms".
func formatRTT(d time.Duration) string {
	ms := d.Milliseconds()
	if ms < 1 {
		return "<1 ms"
	}
	return fmt.Sprintf("%d ms", ms)
}

// plural returns "1 tunnel", "2 tunnels".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
