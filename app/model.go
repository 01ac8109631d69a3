// Package app is the tray app's brain, in the Elm architecture: a Model,
// Update (a pure function from a Model and an Event to the next Model and the
// Effects to carry out), Render (a pure function from a Model to the View the
// tray draws) and Run, a small loop that feeds events to Update, renders, and
// carries out effects through small interfaces. It imports no tray library
// and no desktop adapter, so everything here is tested without a desktop.
//
// Update is split by area: tunnels.go (sharing, stopping, Stop after, what
// the engine reports), favorites.go, servers.go (including probes) and
// prefs.go.
package app

import (
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/tunnel"
)

// Port is a TCP port listening on this machine, offered in "Share a port".
// It is also the type the port scanner (app/ports) reports.
type Port struct {
	// Port is the port number.
	Port uint16
	// Addr is the address it is bound to ("127.0.0.1", "::", "0.0.0.0", ...).
	Addr string
	// PID is the owning process, or 0 when the OS does not say.
	PID int32
	// Process is the owning program's name, or "" when the OS does not say
	// (another user's process, no permission).
	Process string
}

// Reach is the result of probing a server's control port.
type Reach struct {
	// RTT is how long the TCP connect took, when Err is "".
	RTT time.Duration
	// Err says, in the tray's words, why the server cannot be used; ""
	// means it answered and took the secret (or needs none).
	Err string
	// Refused is set when the server answered but refused the secret (or
	// wants one, or wants none): it is reachable, but tunnels will fail.
	Refused bool
}

// Outage is a server that the tunnels through it cannot reach now. The
// user hears of it once when it starts and once when it ends, however many
// tunnels it holds up.
type Outage struct {
	// Since is when the first tunnel lost the server.
	Since time.Time
	// Back counts the tunnels that came back on their old addresses.
	Back int
	// Last is the last tunnel that came back, for the one-tunnel wording.
	Last tunnel.Status
}

// StopTimer is a "Stop after" choice for one tunnel.
type StopTimer struct {
	// After is the duration chosen, as offered in the menu.
	After time.Duration
	// At is when the tunnel stops.
	At time.Time
}

// Model is the whole state of the tray app: what the menu is drawn from and
// what Update decides on. Only Update makes a new one; Render only reads it.
// Update never changes the maps of the Model it is given.
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
	// StopAfter is the "Stop after" timer chosen per tunnel.
	StopAfter map[tunnel.TunnelID]StopTimer
	// FavoriteTunnels maps a favorite's key (FavoriteKey) to the tunnel
	// running it.
	FavoriteTunnels map[string]tunnel.TunnelID
	// Probing holds the keys of the servers being probed now.
	Probing map[string]bool
	// Outages holds, by server key, the servers that tunnels are waiting
	// for now.
	Outages map[string]Outage
	// Inspecting holds the tunnels whose traffic inspector is on, with
	// its page's URL ("" while it starts).
	Inspecting map[tunnel.TunnelID]string
	// Shares holds the tunnels that share a folder or file, with its path.
	Shares map[tunnel.TunnelID]string
	// ConfigDir is the folder "Open config folder" opens.
	ConfigDir string
	// ProbeInterval is how often every server is probed again.
	ProbeInterval time.Duration
	// NextProbe is when the servers are probed next.
	NextProbe time.Time
	// Now is the time of the latest event, for what the menu shows
	// relative to now ("12 min left").
	Now time.Time
	// TimerAt is when the timer is armed to fire (the nearest Stop after
	// deadline or NextProbe); zero when it is not armed.
	TimerAt time.Time
}

// DefaultProbeInterval is how often servers are probed again in the
// background: often enough for the menu to stay truthful, rare enough to
// cost nothing.
const DefaultProbeInterval = 5 * time.Minute

// NewModel returns the Model the app starts from. probeInterval 0 means
// DefaultProbeInterval.
func NewModel(version string, s settings.Settings, configDir string, probeInterval time.Duration) Model {
	if probeInterval <= 0 {
		probeInterval = DefaultProbeInterval
	}
	s.Normalize()
	return Model{
		Version:         version,
		Settings:        s,
		Reach:           map[string]Reach{},
		StopAfter:       map[tunnel.TunnelID]StopTimer{},
		FavoriteTunnels: map[string]tunnel.TunnelID{},
		Probing:         map[string]bool{},
		Outages:         map[string]Outage{},
		Inspecting:      map[tunnel.TunnelID]string{},
		Shares:          map[tunnel.TunnelID]string{},
		ConfigDir:       configDir,
		ProbeInterval:   probeInterval,
	}
}

// clone returns m with maps of its own, so changing them leaves m alone.
func (m Model) clone() Model {
	m.Reach = maps.Clone(m.Reach)
	m.StopAfter = maps.Clone(m.StopAfter)
	m.FavoriteTunnels = maps.Clone(m.FavoriteTunnels)
	m.Probing = maps.Clone(m.Probing)
	m.Outages = maps.Clone(m.Outages)
	m.Inspecting = maps.Clone(m.Inspecting)
	m.Shares = maps.Clone(m.Shares)
	if m.Reach == nil {
		m.Reach = map[string]Reach{}
	}
	if m.StopAfter == nil {
		m.StopAfter = map[tunnel.TunnelID]StopTimer{}
	}
	if m.FavoriteTunnels == nil {
		m.FavoriteTunnels = map[string]tunnel.TunnelID{}
	}
	if m.Probing == nil {
		m.Probing = map[string]bool{}
	}
	if m.Outages == nil {
		m.Outages = map[string]Outage{}
	}
	if m.Inspecting == nil {
		m.Inspecting = map[tunnel.TunnelID]string{}
	}
	if m.Shares == nil {
		m.Shares = map[tunnel.TunnelID]string{}
	}
	return m
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

// serverKey is the key of the server a tunnel goes through ("host", or
// "host:port" for a control port other than 7835): what the Server menu
// shows, so two servers on one host are told apart.
func serverKey(st tunnel.Status) string {
	return settings.Server{Host: st.Server, ControlPort: st.ControlPort}.Key()
}

// localAddr is the local side of a tunnel as shown to people.
func localAddr(st tunnel.Status) string {
	return net.JoinHostPort(localHost(st.LocalHost), strconv.Itoa(int(st.LocalPort)))
}

// localName is what a tunnel shares as shown to people: the local
// address, or "Sharing Photos" for a shared folder or file.
func (m Model) localName(st tunnel.Status) string {
	if p, ok := m.Shares[st.ID]; ok {
		return "Sharing " + shareName(p)
	}
	return localAddr(st)
}

// shareName is the name of a shared folder or file, without its folders.
func shareName(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return "/"
	}
	return p
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
