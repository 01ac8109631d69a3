package app

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/assets"
	"github.com/boretray/bore/tunnel"
)

// stopAfterChoice is one duration offered under "Stop after".
type stopAfterChoice struct {
	id    string
	label string
	d     time.Duration // 0 is Never
}

// stopAfterChoices returns the durations offered under "Stop after".
func stopAfterChoices() []stopAfterChoice {
	return []stopAfterChoice{
		{"15m", "15 min", 15 * time.Minute},
		{"1h", "1 h", time.Hour},
		{"8h", "8 h", 8 * time.Hour},
		{"never", "Never", 0},
	}
}

// maxPortsShown caps "Share a port": a developer machine rarely has more
// listening services worth sharing, and a long menu is hard to use.
const maxPortsShown = 25

// Render draws the menu, icon and tooltip for m. It is pure: the same Model
// always gives the same View.
//
// The layout keeps the tray shell's redraws small: the shell updates items
// in place while IDs and kinds (separator, check box, plain item, submenu)
// stay put, recreates the items after the first difference under the same
// parent, and rebuilds the whole menu only when a separator is among those.
// So the entries that come and go (tunnels) sit before the only
// separators, and every submenu keeps its kind whatever the model holds.
func Render(m Model) View {
	status := statusLine(m.Snapshot)
	v := View{
		Icon:    iconFor(m.Snapshot),
		Title:   "Bore",
		Tooltip: tooltip(m, status),
	}
	menu := []MenuEntry{{ID: "status", Label: status}}
	for _, st := range m.Snapshot.Tunnels {
		menu = append(menu, tunnelEntry(m, st))
	}
	menu = append(menu,
		MenuEntry{ID: "sep/tunnels", Separator: true},
		shareEntry(m),
		sharePathEntry(m, "share/folder", "Share a folder…", IntentShareFolder),
		sharePathEntry(m, "share/file", "Share a file…", IntentShareFile),
		favoritesEntry(m),
		serverEntry(m),
		prefsEntry(m.Settings),
		MenuEntry{ID: "sep/app", Separator: true},
		item("config", "Open config folder", Intent{Kind: IntentOpenConfig}),
		item("about", "About Bore ("+m.Version+")", Intent{Kind: IntentAbout}),
		item("quit", "Quit", Intent{Kind: IntentQuit}),
	)
	v.Menu = menu
	return v
}

func item(id, label string, in Intent) MenuEntry {
	return MenuEntry{ID: id, Label: label, Enabled: true, Intent: in}
}

func check(id, label string, checked bool, in Intent) MenuEntry {
	return MenuEntry{ID: id, Label: label, Enabled: true, Checkable: true, Checked: checked, Intent: in}
}

func disabled(id, label string) MenuEntry {
	return MenuEntry{ID: id, Label: label}
}

func submenu(id, label string, children ...MenuEntry) MenuEntry {
	return MenuEntry{ID: id, Label: label, Enabled: true, Children: children}
}

// iconFor picks trouble when any tunnel reconnects or failed, active when
// any is open or connecting, idle otherwise.
func iconFor(s tunnel.Snapshot) assets.Kind {
	kind := assets.Idle
	for _, t := range s.Tunnels {
		switch t.State {
		case tunnel.StateReconnecting, tunnel.StateFailed:
			return assets.Trouble
		case tunnel.StateOpen, tunnel.StateConnecting:
			kind = assets.Active
		}
	}
	return kind
}

// statusLine is the first, disabled, line of the menu: how many tunnels
// are in each state, "4 tunnels active · 1 reconnecting".
func statusLine(s tunnel.Snapshot) string {
	var open, reconnecting, connecting, failed int
	for _, t := range s.Tunnels {
		switch t.State {
		case tunnel.StateReconnecting:
			reconnecting++
		case tunnel.StateOpen:
			open++
		case tunnel.StateConnecting:
			connecting++
		case tunnel.StateFailed:
			failed++
		}
	}
	if connecting > 0 && open+reconnecting+failed == 0 {
		for _, t := range s.Tunnels {
			if t.State == tunnel.StateConnecting {
				return "Connecting to " + serverKey(t) + "…"
			}
		}
	}
	var parts []string
	add := func(n int, what string) {
		switch {
		case n == 0:
		case len(parts) == 0:
			parts = append(parts, plural(n, "tunnel")+" "+what)
		default:
			parts = append(parts, strconv.Itoa(n)+" "+what)
		}
	}
	add(open, "active")
	add(reconnecting, "reconnecting")
	add(connecting, "connecting")
	add(failed, "failed")
	if len(parts) == 0 {
		return "No active tunnels"
	}
	return strings.Join(parts, " · ")
}

func tooltip(m Model, status string) string {
	lines := []string{"Bore: " + status}
	for _, t := range m.Snapshot.Tunnels {
		if t.State == tunnel.StateOpen {
			lines = append(lines, m.localName(t)+" → "+t.PublicAddr())
		}
	}
	return strings.Join(lines, "\n")
}

// tunnelLabel is a tunnel's line in the menu; local names what it shares
// (Model.localName).
func tunnelLabel(local string, st tunnel.Status) string {
	since := ""
	if !st.Since.IsZero() {
		since = " since " + st.Since.Format("15:04")
	}
	switch st.State {
	case tunnel.StateConnecting:
		return local + " → connecting to " + serverKey(st) + "…"
	case tunnel.StateReconnecting:
		if st.Misbehaving {
			return local + " → " + serverKey(st) + " (" + misbehavingLine + "…)"
		}
		if st.PublicAddr() == "" {
			return local + " → retrying " + serverKey(st) + since + "…"
		}
		return local + " → " + st.PublicAddr() + " (reconnecting" + since + "…)"
	case tunnel.StateFailed:
		return local + " ✕ " + failedVia(st)
	}
	return local + " → " + st.PublicAddr()
}

// stopAfterLabel is the "Stop after" submenu's label, with the time left
// when a timer runs: "Stop after (12 min left)".
func stopAfterLabel(t StopTimer, timed bool, now time.Time) string {
	if !timed || now.IsZero() {
		return "Stop after"
	}
	mins := int((t.At.Sub(now) + time.Minute - 1) / time.Minute)
	switch {
	case mins < 1:
		return "Stop after (stopping…)"
	case mins < 60:
		return fmt.Sprintf("Stop after (%d min left)", mins)
	case mins%60 == 0:
		return fmt.Sprintf("Stop after (%d h left)", mins/60)
	}
	return fmt.Sprintf("Stop after (%d h %d min left)", mins/60, mins%60)
}

// failedVia says, shortly, which server a failed tunnel went through and
// why it failed: "refused by 127.0.0.1:7836: wrong secret".
func failedVia(st tunnel.Status) string {
	key := serverKey(st)
	short := ""
	switch err := st.Err; {
	case errors.Is(err, tunnel.ErrInvalidSecret):
		short = "wrong secret"
	case errors.Is(err, tunnel.ErrSecretRequired), errors.Is(err, tunnel.ErrAuthRequired):
		short = "a secret is needed"
	case errors.Is(err, tunnel.ErrNoAuthExpected):
		short = "it uses no secret"
	case errors.Is(err, tunnel.ErrPortRange):
		short = "port not allowed"
	case errors.Is(err, tunnel.ErrPortInUse):
		short = "port taken"
	}
	var se *tunnel.ServerError
	refused := short != "" || errors.As(st.Err, &se)
	if short == "" {
		short = failReason(st)
	}
	if refused {
		return "refused by " + key + ": " + short
	}
	return "failed via " + key + ": " + short
}

// statsLine is the live statistics line of a tunnel's submenu.
func statsLine(st tunnel.Status) string {
	return fmt.Sprintf("%s · ↓ %s ↑ %s", plural(int(st.Active), "connection"),
		formatBytes(st.BytesIn), formatBytes(st.BytesOut))
}

func tunnelEntry(m Model, st tunnel.Status) MenuEntry {
	id := "tunnel/" + strconv.FormatUint(uint64(st.ID), 10)
	tid := st.ID
	if st.State == tunnel.StateFailed {
		return submenu(id, tunnelLabel(m.localName(st), st),
			disabled(id+"/reason", failReason(st)),
			item(id+"/stop", "Dismiss", Intent{Kind: IntentStopTunnel, Tunnel: tid}),
		)
	}
	hasAddr := st.PublicAddr() != ""
	copyAddr := item(id+"/copy", "Copy address", Intent{Kind: IntentCopyAddress, Tunnel: tid})
	copyURL := item(id+"/url", "Copy as URL ("+publicURL(st)+")", Intent{Kind: IntentCopyURL, Tunnel: tid})
	qr := item(id+"/qr", "Show QR code", Intent{Kind: IntentShowQR, Tunnel: tid})
	if !hasAddr {
		copyURL.Label = "Copy as URL"
		copyAddr.Enabled, copyURL.Enabled, qr.Enabled = false, false, false
	}
	timer, timed := m.StopAfter[tid]
	chosen := timer.After
	var stopAfter []MenuEntry
	for _, c := range stopAfterChoices() {
		stopAfter = append(stopAfter, check(id+"/after/"+c.id, c.label, chosen == c.d,
			Intent{Kind: IntentStopAfter, Tunnel: tid, Duration: c.d}))
	}
	save := item(id+"/save", "Save as favorite", Intent{Kind: IntentSaveFavorite, Tunnel: tid})
	if _, ok := m.matchingFavorite(st); ok {
		save = disabled(id+"/save", "Saved as favorite")
	}
	page, inspecting := m.Inspecting[tid]
	inspect := []MenuEntry{check(id+"/inspect", "Inspect traffic", inspecting, Intent{Kind: IntentToggleInspect, Tunnel: tid})}
	if inspecting {
		open := item(id+"/inspector", "Open inspector", Intent{Kind: IntentOpenInspector, Tunnel: tid})
		if page == "" {
			open.Label, open.Enabled = "Open inspector (starting…)", false
		}
		inspect = append(inspect, open)
	}
	children := []MenuEntry{copyAddr, copyURL, qr, disabled(id+"/stats", statsLine(st))}
	if st.LocalError != "" {
		children = append(children, disabled(id+"/localerror", "⚠ "+st.LocalError))
	}
	if r := reason(st); st.State == tunnel.StateReconnecting && r != "" {
		children = append(children, disabled(id+"/reason", "⚠ "+r))
	}
	children = append(children, inspect...)
	children = append(children, submenu(id+"/after", stopAfterLabel(timer, timed, m.Now), stopAfter...))
	if _, shared := m.Shares[tid]; !shared {
		// A share's local side is a file server on a port of the moment:
		// there is nothing to save.
		children = append(children, save)
	}
	children = append(children, item(id+"/stop", "Stop", Intent{Kind: IntentStopTunnel, Tunnel: tid}))
	return submenu(id, tunnelLabel(m.localName(st), st), children...)
}

// shownPorts returns the listening ports worth offering: one line per port
// number, sorted, at most maxPortsShown.
func shownPorts(ps []Port) []Port {
	byPort := map[uint16]Port{}
	for _, p := range ps {
		if p.Port == 0 {
			continue
		}
		if old, ok := byPort[p.Port]; ok && (old.Process != "" || p.Process == "") {
			continue
		}
		byPort[p.Port] = p
	}
	out := make([]Port, 0, len(byPort))
	for _, p := range byPort {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Port) int { return cmp.Compare(a.Port, b.Port) })
	if len(out) > maxPortsShown {
		out = out[:maxPortsShown]
	}
	return out
}

// portHost is the local host to dial for a port bound to addr: localhost for
// wildcard and loopback binds, the address itself otherwise.
func portHost(addr string) string {
	switch addr {
	case "", "0.0.0.0", "::", "127.0.0.1", "::1", "*", "localhost":
		return "localhost"
	}
	return addr
}

// isLocal reports a host name or address of this machine's loopback.
func isLocal(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// ownPorts are the listening ports that are Bore's own work, not services
// to share: the control ports of saved servers on this machine and the
// public ports of tunnels through them. Sharing one makes a tunnel of a
// tunnel.
func ownPorts(m Model) map[uint16]bool {
	own := map[uint16]bool{}
	for _, srv := range m.Settings.Servers {
		if isLocal(srv.Host) {
			own[srv.Port()] = true
		}
	}
	for _, page := range m.Inspecting {
		if p := inspectorPort(page); p != 0 {
			own[p] = true
		}
	}
	for _, st := range m.Snapshot.Tunnels {
		if _, shared := m.Shares[st.ID]; shared {
			own[st.LocalPort] = true // the share's file server
		}
		if isLocal(st.Server) && st.RemotePort != 0 {
			own[st.RemotePort] = true
		}
		if isLocal(st.Server) {
			own[controlPort(st.ControlPort)] = true
		}
	}
	return own
}

// sharedAt returns the public address of a tunnel sharing local port port,
// or "" when none does; shared is false when no tunnel shares it.
func sharedAt(m Model, port uint16) (addr string, shared bool) {
	for _, st := range m.Snapshot.Tunnels {
		if st.LocalPort == port && isLocal(localHost(st.LocalHost)) && st.State != tunnel.StateFailed {
			if a := st.PublicAddr(); a != "" {
				return a, true
			}
			shared = true
		}
	}
	return "", shared
}

func shareEntry(m Model) MenuEntry {
	srv, chosen := m.currentServer()
	var children []MenuEntry
	if !chosen {
		children = append(children, disabled("share/noserver", "No server chosen: pick one in the Server menu"))
	}
	own := ownPorts(m)
	var ports []Port
	for _, p := range m.Ports {
		if !own[p.Port] {
			ports = append(ports, p)
		}
	}
	for _, p := range shownPorts(ports) {
		label := strconv.Itoa(int(p.Port))
		if p.Process != "" {
			label += " — " + p.Process
		}
		if addr, shared := sharedAt(m, p.Port); shared {
			label += " · shared"
			if addr != "" {
				label += " at " + addr
			}
		}
		e := item("share/port/"+strconv.Itoa(int(p.Port)), label,
			Intent{Kind: IntentSharePort, Host: portHost(p.Addr), Port: p.Port})
		e.Enabled = chosen
		children = append(children, e)
	}
	if len(children) == 0 {
		children = append(children, disabled("share/none", "No listening ports found"))
	}
	other := item("share/other", "Other port…", Intent{Kind: IntentOtherPort})
	other.Enabled = chosen
	children = append(children, other)
	label := "Share a port (choose a server first)"
	if chosen {
		// Say where a Share goes, so it never surprises.
		label = "Share a port via " + srv.Key()
	}
	return submenu("share", label, children...)
}

// sharePathEntry is "Share a folder…" or "Share a file…", which need a
// server chosen.
func sharePathEntry(m Model, id, label string, kind IntentKind) MenuEntry {
	e := item(id, label, Intent{Kind: kind})
	_, e.Enabled = m.currentServer()
	return e
}

// favoriteLabel shows a favorite's name, what it shares, and where.
func favoriteLabel(f settings.Favorite) string {
	local := localHost(f.LocalHost) + ":" + strconv.Itoa(int(f.LocalPort))
	remote := f.Server
	if f.RemotePort != 0 {
		remote = hostOfKey(f.Server) + ":" + strconv.Itoa(int(f.RemotePort))
	}
	label := local + " → " + remote
	if localHost(f.LocalHost) == "localhost" && strings.HasSuffix(f.Name, " :"+strconv.Itoa(int(f.LocalPort))) {
		return f.Name + " → " + remote // "python3 :18080 → bore.pub"
	}
	if f.Name != "" && f.Name != strconv.Itoa(int(f.LocalPort)) {
		label = f.Name + " — " + label
	}
	return label
}

// hostOfKey returns the host part of a server key.
func hostOfKey(key string) string {
	if strings.HasPrefix(key, "[") {
		if i := strings.Index(key, "]"); i > 0 {
			return key[1:i]
		}
	}
	if strings.Count(key, ":") == 1 {
		return key[:strings.Index(key, ":")]
	}
	return key
}

func favoritesEntry(m Model) MenuEntry {
	var children, remove, inspect []MenuEntry
	for _, f := range m.Settings.Favorites {
		key := FavoriteKey(f)
		inspect = append(inspect, check("fav/inspect/"+key, favoriteLabel(f), f.Inspect,
			Intent{Kind: IntentToggleFavoriteInspect, Favorite: key}))
		running := false
		if id, ok := m.FavoriteTunnels[key]; ok {
			_, running = m.Snapshot.Find(id)
		}
		children = append(children, check("fav/"+key, favoriteLabel(f), running,
			Intent{Kind: IntentToggleFavorite, Favorite: key}))
		remove = append(remove, item("fav/remove/"+key, favoriteLabel(f),
			Intent{Kind: IntentRemoveFavorite, Favorite: key}))
	}
	if len(children) == 0 {
		children = append(children, disabled("fav/none", "No favorites yet: use “Save as favorite” on a tunnel"))
	}
	children = append(children, check("fav/atlaunch", "Start favorites at launch",
		m.Settings.StartFavoritesAtLaunch, Intent{Kind: IntentToggleStartFavorites}))
	if len(inspect) > 0 {
		children = append(children, submenu("fav/inspect", "Inspect traffic", inspect...))
	} else {
		children = append(children, disabled("fav/inspect", "Inspect traffic"))
	}
	if len(remove) > 0 {
		children = append(children, submenu("fav/remove", "Remove", remove...))
	} else {
		children = append(children, disabled("fav/remove", "Remove"))
	}
	return submenu("favorites", "Favorites", children...)
}

// serverLabel shows a server's key and its reachability; never its secret.
func serverLabel(srv settings.Server, r Reach, probed bool) string {
	label := srv.Key()
	switch {
	case !probed:
	case r.Refused:
		label += " · refuses the secret"
	case r.Err != "":
		label += " · unreachable"
	default:
		label += " · " + formatRTT(r.RTT)
	}
	return label
}

func serverEntry(m Model) MenuEntry {
	var children, remove []MenuEntry
	for _, srv := range m.Settings.Servers {
		key := srv.Key()
		r, probed := m.Reach[key]
		children = append(children, check("server/"+key, serverLabel(srv, r, probed),
			key == m.Settings.CurrentServer, Intent{Kind: IntentSelectServer, Server: key}))
		remove = append(remove, item("server/remove/"+key, key, Intent{Kind: IntentRemoveServer, Server: key}))
	}
	children = append(children, item("server/add", "Add server…", Intent{Kind: IntentAddServer}))
	if len(remove) > 1 {
		children = append(children, submenu("server/remove", "Remove", remove...))
	} else {
		// The last server cannot be removed: there must be one to share through.
		children = append(children, disabled("server/remove", "Remove"))
	}
	return submenu("server", "Server", children...)
}

func prefsEntry(s settings.Settings) MenuEntry {
	notifyConn := check("prefs/notifyconn", "Notify on new connections", s.NotifyOnConnection, Intent{Kind: IntentTogglePref, Pref: PrefNotifyOnConnection})
	// It is one kind of notification: with notifications off it does
	// nothing, so it cannot be chosen.
	notifyConn.Enabled = s.Notifications
	return submenu("prefs", "Preferences",
		check("prefs/login", "Launch at login", s.LaunchAtLogin, Intent{Kind: IntentTogglePref, Pref: PrefLaunchAtLogin}),
		check("prefs/copy", "Copy address when a tunnel opens", s.CopyOnOpen, Intent{Kind: IntentTogglePref, Pref: PrefCopyOnOpen}),
		check("prefs/notify", "Notifications", s.Notifications, Intent{Kind: IntentTogglePref, Pref: PrefNotifications}),
		notifyConn,
	)
}
