package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/assets"
	"github.com/boretray/bore/tunnel"
)

func openTunnel(id tunnel.TunnelID, local, remote uint16) tunnel.Status {
	return tunnel.Status{ID: id, Server: "bore.pub", ControlPort: 7835, LocalHost: "localhost",
		LocalPort: local, State: tunnel.StateOpen, RemotePort: remote}
}

func baseModel() Model {
	return NewModel("1.2.3", settings.Default(), "/home/u/.config/bore", 0)
}

func labels(entries []MenuEntry) []string {
	var out []string
	for _, e := range entries {
		if e.Separator {
			out = append(out, "---")
			continue
		}
		out = append(out, e.Label)
	}
	return out
}

func TestRenderStatusAndIcon(t *testing.T) {
	t.Parallel()
	reconnecting := openTunnel(2, 8000, 41000)
	reconnecting.State = tunnel.StateReconnecting
	failed := tunnel.Status{ID: 3, Server: "bore.pub", LocalPort: 22, State: tunnel.StateFailed, Reason: "wrong secret"}
	connecting := tunnel.Status{ID: 4, Server: "example.com", LocalPort: 22, State: tunnel.StateConnecting}
	tests := []struct {
		name    string
		tunnels []tunnel.Status
		status  string
		icon    assets.Kind
	}{
		{"none", nil, "No active tunnels", assets.Idle},
		{"one_open", []tunnel.Status{openTunnel(1, 3000, 41234)}, "1 tunnel active", assets.Active},
		{"two_open", []tunnel.Status{openTunnel(1, 3000, 41234), openTunnel(2, 8000, 41235)}, "2 tunnels active", assets.Active},
		{"reconnecting", []tunnel.Status{openTunnel(1, 3000, 41234), reconnecting}, "1 tunnel active · 1 reconnecting", assets.Trouble},
		{"mixed", []tunnel.Status{openTunnel(1, 3000, 41234), openTunnel(5, 3001, 41235), openTunnel(6, 3002, 41236),
			openTunnel(7, 3003, 41237), reconnecting, failed}, "4 tunnels active · 1 reconnecting · 1 failed", assets.Trouble},
		{"reconnecting_only", []tunnel.Status{reconnecting}, "1 tunnel reconnecting", assets.Trouble},
		{"failed_only", []tunnel.Status{failed}, "1 tunnel failed", assets.Trouble},
		{"connecting", []tunnel.Status{connecting}, "Connecting to example.com…", assets.Active},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := baseModel()
			m.Snapshot.Tunnels = tt.tunnels
			v := Render(m)
			st, _ := v.Find("status")
			if st.Label != tt.status || st.Enabled {
				t.Errorf("status = %q (enabled %v), want %q disabled", st.Label, st.Enabled, tt.status)
			}
			if v.Icon != tt.icon {
				t.Errorf("icon = %v, want %v", v.Icon, tt.icon)
			}
			if !strings.Contains(v.Tooltip, tt.status) {
				t.Errorf("tooltip %q does not contain %q", v.Tooltip, tt.status)
			}
		})
	}
}

func TestRenderTopLevelOrder(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Snapshot.Tunnels = []tunnel.Status{openTunnel(7, 3000, 41234)}
	got := strings.Join(labels(Render(m).Menu), " | ")
	want := "1 tunnel active | localhost:3000 → bore.pub:41234 | --- | Share a port via bore.pub | Share a folder… | Share a file… | Favorites | Server | Preferences | --- | Open config folder | About Bore (1.2.3) | Quit"
	if got != want {
		t.Errorf("top level:\n got %s\nwant %s", got, want)
	}
}

func TestRenderTunnelSubmenu(t *testing.T) {
	t.Parallel()
	st := openTunnel(7, 3000, 41234)
	st.Active, st.BytesIn, st.BytesOut = 3, 1_234_567, 340_000
	m := baseModel()
	m.Snapshot.Tunnels = []tunnel.Status{st}
	m.StopAfter[7] = StopTimer{After: time.Hour}
	v := Render(m)
	e, ok := v.Find("tunnel/7")
	if !ok {
		t.Fatal("no tunnel entry")
	}
	got := strings.Join(labels(e.Children), " | ")
	want := "Copy address | Copy as URL (http://bore.pub:41234) | Show QR code | 3 connections · ↓ 1.2 MB ↑ 340 KB | Inspect traffic | Stop after | Save as favorite | Stop"
	if got != want {
		t.Errorf("submenu:\n got %s\nwant %s", got, want)
	}
	if s, _ := v.Find("tunnel/7/stats"); s.Enabled {
		t.Error("stats line is enabled, want disabled")
	}
	for id, want := range map[string]bool{"tunnel/7/after/15m": false, "tunnel/7/after/1h": true, "tunnel/7/after/never": false} {
		if e, _ := v.Find(id); e.Checked != want || !e.Checkable {
			t.Errorf("%s checked = %v (checkable %v), want %v", id, e.Checked, e.Checkable, want)
		}
	}
	if e, _ := v.Find("tunnel/7/url"); e.Intent != (Intent{Kind: IntentCopyURL, Tunnel: 7}) {
		t.Errorf("url intent = %+v", e.Intent)
	}
}

func TestRenderConnectingTunnelCannotBeCopied(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Snapshot.Tunnels = []tunnel.Status{{ID: 1, Server: "bore.pub", LocalPort: 3000, State: tunnel.StateConnecting}}
	v := Render(m)
	for _, id := range []string{"tunnel/1/copy", "tunnel/1/url", "tunnel/1/qr"} {
		if e, _ := v.Find(id); e.Enabled {
			t.Errorf("%s enabled while connecting", id)
		}
	}
	if e, _ := v.Find("tunnel/1"); e.Label != "localhost:3000 → connecting to bore.pub…" {
		t.Errorf("label = %q", e.Label)
	}
}

func TestRenderFailedTunnel(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Snapshot.Tunnels = []tunnel.Status{{ID: 4, Server: "bore.pub", LocalPort: 3000, State: tunnel.StateFailed,
		Reason: "the server refused the secret: check it in the Server menu"}}
	v := Render(m)
	e, _ := v.Find("tunnel/4")
	got := strings.Join(labels(e.Children), " | ")
	if want := "the server refused the secret: check it in the Server menu | Dismiss"; got != want {
		t.Errorf("failed submenu = %q, want %q", got, want)
	}
	if d, _ := v.Find("tunnel/4/stop"); d.Intent.Kind != IntentStopTunnel || !d.Enabled {
		t.Errorf("dismiss = %+v", d)
	}
}

func TestRenderSharePorts(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Ports = []Port{{Port: 8000, Addr: "::", Process: "python3"}, {Port: 3000, Addr: "127.0.0.1", Process: "node"},
		{Port: 8000, Addr: "0.0.0.0"}, {Port: 5432, Addr: "10.0.0.2"}}
	v := Render(m)
	e, _ := v.Find("share")
	got := strings.Join(labels(e.Children), " | ")
	if want := "3000 — node | 5432 | 8000 — python3 | Other port…"; got != want {
		t.Errorf("share = %q, want %q", got, want)
	}
	if p, _ := v.Find("share/port/5432"); p.Intent != (Intent{Kind: IntentSharePort, Host: "10.0.0.2", Port: 5432}) {
		t.Errorf("intent = %+v", p.Intent)
	}
	if p, _ := v.Find("share/port/3000"); p.Intent.Host != "localhost" {
		t.Errorf("loopback port host = %q, want localhost", p.Intent.Host)
	}
	empty := Render(baseModel())
	e, _ = empty.Find("share")
	if got, want := strings.Join(labels(e.Children), " | "), "No listening ports found | Other port…"; got != want {
		t.Errorf("empty share = %q, want %q", got, want)
	}
}

func TestRenderShareWithoutServer(t *testing.T) {
	t.Parallel()
	m := withTwoServers()
	m.Settings.CurrentServer = "tun.example.com:7000"
	m.Ports = []Port{{Port: 3000, Addr: "127.0.0.1", Process: "node"}}
	e, _ := Render(m).Find("share")
	if e.Label != "Share a port via tun.example.com:7000" {
		t.Errorf("share label = %q", e.Label)
	}
	m.Settings.CurrentServer = ""
	v := Render(m)
	e, _ = v.Find("share")
	if e.Label != "Share a port (choose a server first)" {
		t.Errorf("share label without a server = %q", e.Label)
	}
	if got, want := strings.Join(labels(e.Children), " | "), "No server chosen: pick one in the Server menu | 3000 — node | Other port…"; got != want {
		t.Errorf("share = %q, want %q", got, want)
	}
	for _, c := range e.Children {
		if c.Enabled {
			t.Errorf("%q is enabled with no server chosen", c.Label)
		}
	}
	for _, c := range func() []MenuEntry { s, _ := v.Find("server"); return s.Children }() {
		if c.Checked {
			t.Errorf("%q is checked with no server chosen", c.Label)
		}
	}
}

func TestRenderServers(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Settings.Servers = append(m.Settings.Servers, settings.Server{Host: "tunnel.example.com", ControlPort: 7000, Secret: "hunter2"},
		settings.Server{Host: "down.example.com"})
	m.Settings.CurrentServer = "tunnel.example.com:7000"
	m.Reach["bore.pub"] = Reach{RTT: 42 * time.Millisecond}
	m.Reach["down.example.com"] = Reach{Err: "connection refused"}
	v := Render(m)
	e, _ := v.Find("server")
	got := strings.Join(labels(e.Children), " | ")
	if want := "bore.pub · 42 ms | tunnel.example.com:7000 | down.example.com · unreachable | Add server… | Remove"; got != want {
		t.Errorf("servers = %q, want %q", got, want)
	}
	if s, _ := v.Find("server/tunnel.example.com:7000"); !s.Checked {
		t.Error("current server not checked")
	}
	if s, _ := v.Find("server/bore.pub"); s.Checked {
		t.Error("other server checked")
	}
	if strings.Contains(dump(v.Menu), "hunter2") {
		t.Error("the secret shows in the menu")
	}
	one := Render(baseModel())
	if r, _ := one.Find("server/remove"); r.Enabled {
		t.Error("the only server can be removed")
	}
}

func dump(entries []MenuEntry) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.Label + "\n" + e.Intent.Favorite + e.Intent.Server + e.Intent.Host + "\n")
		b.WriteString(dump(e.Children))
	}
	return b.String()
}

func TestRenderFavorites(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Settings.Favorites = []settings.Favorite{
		{Name: "web", LocalPort: 3000, Server: "bore.pub", RemotePort: 41234},
		{LocalPort: 8000, Server: "bore.pub"},
	}
	m.Settings.Normalize()
	m.Snapshot.Tunnels = []tunnel.Status{openTunnel(9, 3000, 41234)}
	m.FavoriteTunnels[FavoriteKey(m.Settings.Favorites[0])] = 9
	v := Render(m)
	e, _ := v.Find("favorites")
	got := strings.Join(labels(e.Children), " | ")
	if want := "web — localhost:3000 → bore.pub:41234 | localhost:8000 → bore.pub | Start favorites at launch | Inspect traffic | Remove"; got != want {
		t.Errorf("favorites = %q, want %q", got, want)
	}
	if !e.Children[0].Checked || e.Children[1].Checked {
		t.Errorf("checked = %v, %v; want true, false", e.Children[0].Checked, e.Children[1].Checked)
	}
	if s, _ := v.Find("tunnel/9/save"); s.Enabled || s.Label != "Saved as favorite" {
		t.Errorf("save entry = %+v, want disabled 'Saved as favorite'", s)
	}
}

func TestRenderPreferences(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Settings.LaunchAtLogin, m.Settings.CopyOnOpen, m.Settings.Notifications, m.Settings.NotifyOnConnection = true, false, true, false
	v := Render(m)
	for id, want := range map[string]bool{"prefs/login": true, "prefs/copy": false, "prefs/notify": true, "prefs/notifyconn": false} {
		e, _ := v.Find(id)
		if !e.Checkable || e.Checked != want {
			t.Errorf("%s checked = %v (checkable %v), want %v", id, e.Checked, e.Checkable, want)
		}
	}
}

func TestRenderIDsUnique(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Snapshot.Tunnels = []tunnel.Status{openTunnel(1, 3000, 41234), openTunnel(2, 3000, 41235)}
	m.Ports = []Port{{Port: 3000}, {Port: 8000}}
	m.Settings.Favorites = []settings.Favorite{{LocalPort: 3000, Server: "bore.pub"}}
	seen := map[string]bool{}
	var walk func([]MenuEntry)
	walk = func(es []MenuEntry) {
		for _, e := range es {
			if e.ID == "" || seen[e.ID] {
				t.Errorf("ID %q empty or repeated", e.ID)
			}
			seen[e.ID] = true
			walk(e.Children)
		}
	}
	walk(Render(m).Menu)
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   int64
		want string
	}{{0, "0 B"}, {999, "999 B"}, {1000, "1.0 KB"}, {340_000, "340 KB"}, {1_234_567, "1.2 MB"}, {9_960_000, "10 MB"}, {5e12, "5.0 TB"}}
	for _, tt := range tests {
		if got := formatBytes(tt.in); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRenderRetryingTunnelSaysSinceWhen(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 1, 2, 20, 31, 0, 0, time.UTC)
	never := tunnel.Status{ID: 1, Server: "127.0.0.1", ControlPort: 7999, LocalPort: 3000,
		State: tunnel.StateReconnecting, Since: since}
	was := never
	was.ID, was.RemotePort = 2, 41000
	conn := never
	conn.ID, conn.State = 3, tunnel.StateConnecting
	m := baseModel()
	m.Snapshot.Tunnels = []tunnel.Status{never, was, conn}
	v := Render(m)
	for id, want := range map[string]string{
		"tunnel/1": "localhost:3000 → retrying 127.0.0.1:7999 since 20:31…",
		"tunnel/2": "localhost:3000 → 127.0.0.1:41000 (reconnecting since 20:31…)",
		"tunnel/3": "localhost:3000 → connecting to 127.0.0.1:7999…",
	} {
		if e, _ := v.Find(id); e.Label != want {
			t.Errorf("%s = %q, want %q", id, e.Label, want)
		}
	}
}

func TestRenderServerRefusingSecret(t *testing.T) {
	t.Parallel()
	m := withLoopback()
	m.Reach["127.0.0.1:7999"] = Reach{Err: "the server refused the secret", Refused: true}
	if e, _ := Render(m).Find("server/127.0.0.1:7999"); e.Label != "127.0.0.1:7999 · refuses the secret" {
		t.Errorf("label = %q", e.Label)
	}
}

func TestRenderShareLeavesOutOwnPortsAndMarksShared(t *testing.T) {
	t.Parallel()
	shared := loopTunnel(1, 3000, 41000, tunnel.StateOpen)
	m := withLoopback(shared)
	m.Ports = []Port{{Port: 3000, Addr: "127.0.0.1", Process: "node"}, {Port: 7999, Addr: "127.0.0.1", Process: "bore"},
		{Port: 41000, Addr: "127.0.0.1", Process: "bore"}, {Port: 8000, Addr: "::", Process: "python3"}}
	e, _ := Render(m).Find("share")
	got := strings.Join(labels(e.Children), " | ")
	if want := "3000 — node · shared at 127.0.0.1:41000 | 8000 — python3 | Other port…"; got != want {
		t.Errorf("share = %q, want %q", got, want)
	}
}

func TestRenderFailedLineNamesServer(t *testing.T) {
	t.Parallel()
	refused := loopTunnel(1, 3000, 0, tunnel.StateFailed)
	refused.Err = tunnel.ErrInvalidSecret
	other := loopTunnel(2, 4000, 0, tunnel.StateFailed)
	other.Err = errors.New("boom")
	v := Render(withLoopback(refused, other))
	for id, want := range map[string]string{
		"tunnel/1": "localhost:3000 ✕ refused by 127.0.0.1:7999: wrong secret",
		"tunnel/2": "localhost:4000 ✕ failed via 127.0.0.1:7999: boom",
	} {
		if e, _ := v.Find(id); e.Label != want {
			t.Errorf("%s = %q, want %q", id, e.Label, want)
		}
	}
}

func TestRenderNotifyOnConnectionNeedsNotifications(t *testing.T) {
	t.Parallel()
	m := baseModel()
	if e, _ := Render(m).Find("prefs/notifyconn"); !e.Enabled {
		t.Error("disabled while notifications are on")
	}
	m.Settings.Notifications = false
	if e, _ := Render(m).Find("prefs/notifyconn"); e.Enabled {
		t.Error("enabled while notifications are off")
	}
}

func TestRenderStopAfterTimeLeft(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		left time.Duration
		want string
	}{
		{12*time.Minute + 30*time.Second, "Stop after (13 min left)"},
		{time.Hour, "Stop after (1 h left)"},
		{7*time.Hour + 5*time.Minute, "Stop after (7 h 5 min left)"},
		{0, "Stop after (stopping…)"},
	} {
		m := withTunnels(openTunnel(1, 3000, 41234))
		m.Now = t0
		m.StopAfter[1] = StopTimer{After: 8 * time.Hour, At: t0.Add(tt.left)}
		if e, _ := Render(m).Find("tunnel/1/after"); e.Label != tt.want {
			t.Errorf("left %v: %q, want %q", tt.left, e.Label, tt.want)
		}
	}
	if e, _ := Render(withTunnels(openTunnel(1, 3000, 41234))).Find("tunnel/1/after"); e.Label != "Stop after" {
		t.Errorf("no timer: %q", e.Label)
	}
}

func TestRenderFavoriteDefaultName(t *testing.T) {
	t.Parallel()
	m := baseModel()
	m.Settings.Favorites = []settings.Favorite{{Name: "python3 :18080", LocalPort: 18080, Server: "bore.pub"}}
	if e, _ := Render(m).Find("fav/" + FavoriteKey(m.Settings.Favorites[0])); e.Label != "python3 :18080 → bore.pub" {
		t.Errorf("label = %q", e.Label)
	}
}
