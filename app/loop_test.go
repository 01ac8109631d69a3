package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/assets"
	"github.com/boretray/bore/tunnel"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeEngine records what the loop asks and lets the test push
// snapshots.
type fakeEngine struct {
	mu      sync.Mutex
	started []tunnel.ClientConfig
	stopped []tunnel.TunnelID
	closed  bool
	next    tunnel.TunnelID
	err     error
	snaps   chan tunnel.Snapshot
}

func (e *fakeEngine) Start(cfg tunnel.ClientConfig) (tunnel.TunnelID, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return 0, e.err
	}
	e.next++
	e.started = append(e.started, cfg)
	return e.next, nil
}

func (e *fakeEngine) Stop(id tunnel.TunnelID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = append(e.stopped, id)
}

func (e *fakeEngine) Watch(ctx context.Context) <-chan tunnel.Snapshot { return e.snaps }

func (e *fakeEngine) stoppedIDs() []tunnel.TunnelID {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.stopped)
}

func (e *fakeEngine) startedCfgs() []tunnel.ClientConfig {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.started)
}

func (e *fakeEngine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func (e *fakeEngine) setErr(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.err = err
}

func (e *fakeEngine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
}

type note struct{ title, body string }

type recorder struct {
	mu     sync.Mutex
	notes  []note
	copied []string
	saved  []settings.Settings
	opened []string
	views  []View
	auto   []string
	qr     []string

	saveErr, copyErr, autoErr error
}

func (r *recorder) Notify(title, body string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, note{title, body})
	return nil
}

func (r *recorder) CopyText(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.copyErr != nil {
		return r.copyErr
	}
	r.copied = append(r.copied, s)
	return nil
}

func (r *recorder) Save(s settings.Settings) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.saveErr != nil {
		return r.saveErr
	}
	r.saved = append(r.saved, s)
	return nil
}

func (r *recorder) Open(path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opened = append(r.opened, path)
	return nil
}

func (r *recorder) ShowQR(addr string, port uint16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.qr = append(r.qr, fmt.Sprintf("%s %d", addr, port))
	return nil
}

func (r *recorder) Render(v View) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.views = append(r.views, v)
}

func (r *recorder) get() (auto, opened []string, saved int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.auto), slices.Clone(r.opened), len(r.saved)
}

func (r *recorder) setErrs(save, auto error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saveErr, r.autoErr = save, auto
}

func (r *recorder) Enable() error  { return r.autostart("enable") }
func (r *recorder) Disable() error { return r.autostart("disable") }
func (r *recorder) autostart(what string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.autoErr != nil {
		return r.autoErr
	}
	r.auto = append(r.auto, what)
	return nil
}

// fakeDialogs answers Entry and Password from queues.
type fakeDialogs struct {
	mu        sync.Mutex
	tool      string
	entries   []string
	passwords []string
	asked     []string
}

func (d *fakeDialogs) Available() string { return d.tool }

// Entry re-asks after an answer check refuses, with the error above the
// prompt, as the desktop's dialogs do (desktop.AskValid).
func (d *fakeDialogs) Entry(ctx context.Context, title, prompt, initial string, check func(string) error) (string, error) {
	p := prompt
	for {
		text, err := d.answer(&d.entries, p)
		if err != nil || check == nil {
			return text, err
		}
		cerr := check(text)
		if cerr == nil {
			return text, nil
		}
		p = cerr.Error() + "\n\n" + prompt
	}
}

func (d *fakeDialogs) Password(ctx context.Context, title, prompt string) (string, error) {
	return d.answer(&d.passwords, prompt)
}

func (d *fakeDialogs) answer(q *[]string, prompt string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, prompt)
	if len(*q) == 0 {
		return "", ErrCancelled
	}
	a := (*q)[0]
	*q = (*q)[1:]
	return a, nil
}

type fakeProber map[string]time.Duration

func (p fakeProber) Probe(ctx context.Context, srv settings.Server) (time.Duration, error) {
	if d, ok := p[srv.Key()]; ok {
		return d, nil
	}
	return 0, errors.New("connection refused")
}

// harness runs the loop inside a synctest bubble.
type harness struct {
	t       *testing.T
	eng     *fakeEngine
	rec     *recorder
	intents chan Intent
	ports   chan []Port
	cancel  context.CancelFunc
	done    chan error
}

func start(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		eng:     &fakeEngine{snaps: make(chan tunnel.Snapshot)},
		rec:     &recorder{},
		intents: make(chan Intent),
		ports:   make(chan []Port),
		done:    make(chan error, 1),
	}
	cfg := Config{
		Version:   "1.2.3",
		Settings:  settings.Default(),
		ConfigDir: "/home/u/.config/bore",
		Intents:   h.intents,
		Ports:     h.ports,
		Engine:    h.eng,
		Renderer:  h.rec,
		Store:     h.rec,
		Clipboard: h.rec,
		Notifier:  h.rec,
		Opener:    h.rec,
		QR:        h.rec,
		Autostart: h.rec,
		Prober:    fakeProber{"bore.pub": 42 * time.Millisecond},
	}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(t.Context())
	h.cancel = cancel
	go func() { h.done <- Run(ctx, cfg) }()
	synctest.Wait()
	h.snap()
	return h
}

// stop ends the loop and checks it returned.
func (h *harness) stop() {
	h.t.Helper()
	h.cancel()
	if err := <-h.done; !errors.Is(err, context.Canceled) {
		h.t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func (h *harness) snap(tunnels ...tunnel.Status) {
	h.t.Helper()
	h.eng.snaps <- tunnel.Snapshot{Tunnels: tunnels}
	synctest.Wait()
}

func (h *harness) view() View {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	if len(h.rec.views) == 0 {
		h.t.Fatal("nothing rendered")
	}
	return h.rec.views[len(h.rec.views)-1]
}

// click sends the intent of the entry with the given ID, as the shell would.
func (h *harness) click(id string) {
	h.t.Helper()
	e, ok := h.view().Find(id)
	if !ok {
		h.t.Fatalf("no entry %q in the menu", id)
	}
	h.intents <- e.Intent
	synctest.Wait()
}

func (h *harness) notes() []note {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	return slices.Clone(h.rec.notes)
}

func (h *harness) copied() []string {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	return slices.Clone(h.rec.copied)
}

func (h *harness) lastSaved() settings.Settings {
	h.t.Helper()
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	if len(h.rec.saved) == 0 {
		h.t.Fatal("settings were never saved")
	}
	return h.rec.saved[len(h.rec.saved)-1]
}

func (h *harness) label(id string) string {
	e, _ := h.view().Find(id)
	return e.Label
}

func hasNote(notes []note, substr string) bool {
	for _, n := range notes {
		if strings.Contains(n.title+" "+n.body, substr) {
			return true
		}
	}
	return false
}

func connecting(id tunnel.TunnelID, local uint16) tunnel.Status {
	return tunnel.Status{ID: id, Server: "bore.pub", ControlPort: 7835, LocalHost: "localhost", LocalPort: local, State: tunnel.StateConnecting}
}

func TestOpenCopiesAndNotifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		h.snap(connecting(1, 3000))
		h.snap(openTunnel(1, 3000, 41234))
		if got, want := h.copied(), []string{"bore.pub:41234"}; !slices.Equal(got, want) {
			t.Errorf("clipboard = %q, want %q", got, want)
		}
		if !hasNote(h.notes(), "localhost:3000 is public at bore.pub:41234 — address copied") {
			t.Errorf("notes = %v", h.notes())
		}
		if got := h.label("status"); got != "1 tunnel active" {
			t.Errorf("status = %q", got)
		}
		if h.view().Icon != assets.Active {
			t.Errorf("icon = %v", h.view().Icon)
		}
	})
}

func TestReconnect(t *testing.T) {
	tests := []struct {
		name    string
		newPort uint16
		note    string
		copied  []string
	}{
		{"same_address", 41234, "localhost:3000 reconnected — same address bore.pub:41234", []string{"bore.pub:41234"}},
		{"address_changed", 41999, "address changed — new one copied: bore.pub:41999", []string{"bore.pub:41234", "bore.pub:41999"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := start(t, nil)
				defer h.stop()
				h.snap(openTunnel(1, 3000, 41234))
				drop := openTunnel(1, 3000, 41234)
				drop.State, drop.Reason = tunnel.StateReconnecting, "the server closed the connection"
				h.snap(drop)
				if h.view().Icon != assets.Trouble || h.label("status") != "1 tunnel reconnecting" {
					t.Errorf("while reconnecting: icon %v, status %q", h.view().Icon, h.label("status"))
				}
				h.snap(openTunnel(1, 3000, tt.newPort))
				if !hasNote(h.notes(), tt.note) {
					t.Errorf("notes = %v, want one with %q", h.notes(), tt.note)
				}
				if got := h.copied(); !slices.Equal(got, tt.copied) {
					t.Errorf("clipboard = %q, want %q", got, tt.copied)
				}
			})
		})
	}
}

func TestFailedTunnelIsReportedAndDismissed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		failed := connecting(1, 3000)
		failed.State, failed.Reason = tunnel.StateFailed, "the server refused the secret"
		h.snap(failed)
		h.snap(failed)
		n := 0
		for _, nt := range h.notes() {
			if strings.Contains(nt.body, "the server refused the secret") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("failure notified %d times, want once: %v", n, h.notes())
		}
		h.click("tunnel/1/stop")
		if !slices.Equal(h.eng.stoppedIDs(), []tunnel.TunnelID{1}) {
			t.Errorf("stopped = %v, want [1]", h.eng.stoppedIDs())
		}
		if _, ok := h.view().Find("tunnel/1"); ok {
			t.Error("dismissed tunnel still in the menu")
		}
	})
}

func TestLocalErrorNotifiedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		st := openTunnel(1, 3000, 41234)
		h.snap(st)
		st.LocalError = "nothing is listening on localhost:3000"
		st.Total = 1
		h.snap(st)
		st.Total = 5
		h.snap(st)
		n := 0
		for _, nt := range h.notes() {
			if strings.Contains(nt.body, "but nothing is listening on localhost:3000") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("local error notified %d times, want once: %v", n, h.notes())
		}
	})
}

func TestSharePortStartsTunnelToCurrentServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, func(c *Config) {
			c.Settings.Servers = append(c.Settings.Servers, settings.Server{Host: "tun.example.com", ControlPort: 7000, Secret: "hunter2"})
			c.Settings.CurrentServer = "tun.example.com:7000"
		})
		defer h.stop()
		h.ports <- []Port{{Port: 3000, Addr: "127.0.0.1", Process: "node"}}
		synctest.Wait()
		h.click("share/port/3000")
		if len(h.eng.startedCfgs()) != 1 {
			t.Fatalf("started %d tunnels, want 1", len(h.eng.startedCfgs()))
		}
		got := h.eng.startedCfgs()[0]
		got.Logger = nil
		want := tunnel.ClientConfig{Server: "tun.example.com", ControlPort: 7000, LocalHost: "localhost", LocalPort: 3000, Secret: "hunter2"}
		if got != want {
			t.Errorf("config = %+v, want %+v", got, want)
		}
		for _, n := range h.notes() {
			if strings.Contains(n.title+n.body, "hunter2") {
				t.Errorf("secret in a notification: %v", n)
			}
		}
	})
}

func TestStartErrorIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		h.eng.setErr(errors.New("local port 0 is not valid"))
		h.ports <- []Port{{Port: 3000}}
		synctest.Wait()
		h.click("share/port/3000")
		if !hasNote(h.notes(), "Could not share localhost:3000") {
			t.Errorf("notes = %v", h.notes())
		}
	})
}

func TestDisabledClicksAreIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		h.snap(connecting(1, 3000))
		for _, in := range []Intent{
			{Kind: IntentCopyAddress, Tunnel: 1}, // no address yet
			{Kind: IntentStopTunnel, Tunnel: 99}, // no such tunnel
			{Kind: IntentRemoveServer, Server: "bore.pub"},
			{Kind: IntentSharePort, Port: 1234}, // not offered
		} {
			h.intents <- in
			synctest.Wait()
		}
		if len(h.copied()) != 0 || len(h.eng.stoppedIDs()) != 0 || len(h.eng.startedCfgs()) != 0 || savedCount(h) != 0 {
			t.Errorf("a disabled click did something: copied %v stopped %v started %v saved %d",
				h.copied(), h.eng.stoppedIDs(), h.eng.startedCfgs(), savedCount(h))
		}
	})
}

func TestCopyActions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, func(c *Config) { c.Settings.CopyOnOpen = false })
		defer h.stop()
		h.snap(openTunnel(1, 3000, 41234))
		h.click("tunnel/1/copy")
		h.click("tunnel/1/url")
		if got, want := h.copied(), []string{"bore.pub:41234", "http://bore.pub:41234"}; !slices.Equal(got, want) {
			t.Errorf("clipboard = %q, want %q", got, want)
		}
		h.click("tunnel/1/qr")
		h.rec.mu.Lock()
		qr := slices.Clone(h.rec.qr)
		h.rec.mu.Unlock()
		if want := []string{"http://bore.pub:41234 41234"}; !slices.Equal(qr, want) {
			t.Errorf("QR codes shown = %q, want %q", qr, want)
		}
	})
}

func TestStopAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		h.snap(openTunnel(1, 3000, 41234), openTunnel(2, 8000, 41235))
		h.click("tunnel/1/after/15m")
		h.click("tunnel/2/after/1h")
		h.click("tunnel/2/after/never")
		if e, _ := h.view().Find("tunnel/1/after/15m"); !e.Checked {
			t.Error("15 min not checked")
		}
		time.Sleep(15*time.Minute - time.Second)
		synctest.Wait()
		if len(h.eng.stoppedIDs()) != 0 {
			t.Fatalf("stopped early: %v", h.eng.stoppedIDs())
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if !slices.Equal(h.eng.stoppedIDs(), []tunnel.TunnelID{1}) {
			t.Errorf("stopped = %v, want [1]", h.eng.stoppedIDs())
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if !slices.Equal(h.eng.stoppedIDs(), []tunnel.TunnelID{1}) {
			t.Errorf("after Never, stopped = %v, want [1]", h.eng.stoppedIDs())
		}
	})
}

func TestSaveAndToggleFavorite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		h.ports <- []Port{{Port: 3000, Process: "node"}}
		synctest.Wait()
		h.snap(openTunnel(1, 3000, 41234))
		h.click("tunnel/1/save")
		saved := h.lastSaved()
		want := []settings.Favorite{{Name: "node :3000", LocalHost: "localhost", LocalPort: 3000, Server: "bore.pub", RemotePort: 41234}}
		if !slices.Equal(saved.Favorites, want) {
			t.Errorf("favorites = %+v, want %+v", saved.Favorites, want)
		}
		if e, _ := h.view().Find("tunnel/1/save"); e.Enabled {
			t.Error("save still enabled")
		}
		key := FavoriteKey(want[0])
		if e, _ := h.view().Find("fav/" + key); !e.Checked {
			t.Error("running favorite not checked")
		}
		h.click("fav/" + key) // stop it
		if !slices.Equal(h.eng.stoppedIDs(), []tunnel.TunnelID{1}) {
			t.Errorf("stopped = %v, want [1]", h.eng.stoppedIDs())
		}
		h.snap()
		h.click("fav/" + key) // start it again, same fixed port
		if len(h.eng.startedCfgs()) != 1 || h.eng.startedCfgs()[0].RemotePort != 41234 || h.eng.startedCfgs()[0].LocalPort != 3000 {
			t.Errorf("started = %+v", h.eng.startedCfgs())
		}
		h.click("fav/remove/" + key)
		if got := h.lastSaved().Favorites; len(got) != 0 {
			t.Errorf("after remove: %+v", got)
		}
	})
}

func TestStartFavoritesAtLaunch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, func(c *Config) {
			c.Settings.StartFavoritesAtLaunch = true
			c.Settings.Favorites = []settings.Favorite{{LocalPort: 3000, Server: "bore.pub"}, {LocalPort: 22, Server: "bore.pub"}}
		})
		defer h.stop()
		if len(h.eng.startedCfgs()) != 2 {
			t.Errorf("started %d favorites at launch, want 2", len(h.eng.startedCfgs()))
		}
		h.click("fav/atlaunch")
		if h.lastSaved().StartFavoritesAtLaunch {
			t.Error("toggle did not turn it off")
		}
	})
}

func TestPreferences(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		h.click("prefs/login")
		if auto, _, _ := h.rec.get(); !h.lastSaved().LaunchAtLogin || !slices.Equal(auto, []string{"enable"}) {
			t.Errorf("launch at login: saved %v, autostart %v", h.lastSaved().LaunchAtLogin, auto)
		}
		h.click("prefs/login")
		if auto, _, _ := h.rec.get(); h.lastSaved().LaunchAtLogin || !slices.Equal(auto, []string{"enable", "disable"}) {
			t.Errorf("launch at login off: saved %v, autostart %v", h.lastSaved().LaunchAtLogin, auto)
		}
		h.rec.setErrs(nil, errors.New("cannot write ~/.config/autostart/bore.desktop: permission denied"))
		h.click("prefs/login")
		if e, _ := h.view().Find("prefs/login"); e.Checked {
			t.Error("launch at login checked although enabling failed")
		}
		if !hasNote(h.notes(), "permission denied") {
			t.Errorf("autostart failure not reported: %v", h.notes())
		}
		h.click("prefs/copy")
		h.click("prefs/notifyconn")
		s := h.lastSaved()
		if s.CopyOnOpen || !s.NotifyOnConnection {
			t.Errorf("copy %v notifyconn %v, want false true", s.CopyOnOpen, s.NotifyOnConnection)
		}
	})
}

func TestNotificationsOffKeepsErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, func(c *Config) { c.Settings.Notifications = false })
		defer h.stop()
		h.snap(openTunnel(1, 3000, 41234))
		failed := openTunnel(2, 8000, 0)
		failed.State, failed.Reason = tunnel.StateFailed, "port 8000 is taken on the server"
		h.snap(openTunnel(1, 3000, 41234), failed)
		notes := h.notes()
		if hasNote(notes, "is public at") {
			t.Errorf("informational note with notifications off: %v", notes)
		}
		if !hasNote(notes, "port 8000 is taken") {
			t.Errorf("error not reported: %v", notes)
		}
		if got := h.copied(); len(got) != 1 {
			t.Errorf("clipboard = %v, want the address copied anyway", got)
		}
	})
}

func TestNotifyOnConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, func(c *Config) { c.Settings.NotifyOnConnection = true })
		defer h.stop()
		st := openTunnel(1, 3000, 41234)
		h.snap(st)
		st.Total, st.Active = 1, 1
		h.snap(st)
		if !hasNote(h.notes(), "A visitor connected to bore.pub:41234") {
			t.Errorf("notes = %v", h.notes())
		}
	})
}

func TestServers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dlg := &fakeDialogs{tool: "zenity", entries: []string{"tun.example.com:7000"}, passwords: []string{"hunter2"}}
		h := start(t, func(c *Config) {
			c.Dialogs = dlg
			c.Prober = fakeProber{"bore.pub": 42 * time.Millisecond, "tun.example.com:7000": 7 * time.Millisecond}
		})
		defer h.stop()
		if got := h.label("server/bore.pub"); got != "bore.pub · 42 ms" {
			t.Errorf("probe label = %q", got)
		}
		h.click("server/add")
		s := h.lastSaved()
		if s.CurrentServer != "tun.example.com:7000" {
			t.Errorf("current = %q", s.CurrentServer)
		}
		if srv, _ := s.Server("tun.example.com:7000"); srv.Secret != "hunter2" {
			t.Errorf("secret not saved: %+v", srv)
		}
		if got := h.label("server/tun.example.com:7000"); got != "tun.example.com:7000 · 7 ms" {
			t.Errorf("new server label = %q", got)
		}
		if strings.Contains(dump(h.view().Menu), "hunter2") || hasNote(h.notes(), "hunter2") {
			t.Error("secret shown")
		}
		h.click("server/bore.pub")
		if h.lastSaved().CurrentServer != "bore.pub" {
			t.Error("select server not saved")
		}
		h.click("server/remove/tun.example.com:7000")
		if _, ok := h.lastSaved().Server("tun.example.com:7000"); ok {
			t.Error("server not removed")
		}
		if !hasNote(h.notes(), "Removed tun.example.com:7000.") {
			t.Errorf("removal not told: %v", h.notes())
		}
		before := len(h.notes())
		h.click("server/add") // cancelled: nothing happens, nothing said
		if n := len(h.notes()) - before; n != 0 {
			t.Errorf("notes after cancel: %v", h.notes())
		}
	})
}

func TestProbeUnreachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, func(c *Config) { c.Prober = fakeProber{} })
		defer h.stop()
		if got := h.label("server/bore.pub"); got != "bore.pub · unreachable" {
			t.Errorf("label = %q", got)
		}
	})
}

func TestOtherPort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dlg := &fakeDialogs{tool: "zenity", entries: []string{"192.168.1.5:8080", "70000"}}
		h := start(t, func(c *Config) { c.Dialogs = dlg })
		defer h.stop()
		h.click("share/other")
		if len(h.eng.startedCfgs()) != 1 || h.eng.startedCfgs()[0].LocalHost != "192.168.1.5" || h.eng.startedCfgs()[0].LocalPort != 8080 {
			t.Errorf("started = %+v", h.eng.startedCfgs())
		}
		// A bad port shows the dialog again with the error, filled in.
		h.click("share/other")
		dlg.mu.Lock()
		asked := slices.Clone(dlg.asked)
		dlg.mu.Unlock()
		if len(asked) != 3 {
			t.Fatalf("dialogs shown: %q, want the port dialog again after the bad port", asked)
		}
		again := asked[2]
		if !strings.HasSuffix(again, "Port to share (or host:port):") || again == "Port to share (or host:port):" {
			t.Errorf("second dialog prompt = %q, want the error above the prompt", again)
		}
		if len(h.eng.startedCfgs()) != 1 {
			t.Errorf("a bad port started a tunnel: %+v", h.eng.startedCfgs())
		}
	})
}

// "Open config folder" writes the settings first, so a first run has a
// folder and a file to open.
func TestOpenConfigWritesSettingsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		_, _, before := h.rec.get()
		h.click("config")
		_, opened, after := h.rec.get()
		if after != before+1 {
			t.Errorf("settings saved %d times on Open config folder, want once", after-before)
		}
		if len(opened) != 1 {
			t.Errorf("opened = %v, want the config folder", opened)
		}
	})
}

func TestNoDialogTool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, func(c *Config) { c.Dialogs = &fakeDialogs{} })
		defer h.stop()
		h.click("server/add")
		h.click("share/other")
		notes := h.notes()
		if len(notes) != 2 || !hasNote(notes, "Open config folder") {
			t.Errorf("notes = %v, want two pointing to Open config folder", notes)
		}
	})
}

func TestSaveFailureIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		h.rec.setErrs(fmt.Errorf("could not write settings: %w", os.ErrPermission), nil)
		h.click("prefs/copy")
		if !hasNote(h.notes(), "could not save your settings") && !hasNote(h.notes(), "could not write settings") {
			t.Errorf("notes = %v", h.notes())
		}
	})
}

func TestLoadErrorIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lerr := &settings.LoadError{Path: "/c/bore/config.json", Backup: "/c/bore/config.json.bad-1", Err: settings.ErrCorrupt}
		h := start(t, func(c *Config) { c.LoadErr = lerr })
		defer h.stop()
		if !hasNote(h.notes(), "/c/bore/config.json.bad-1") {
			t.Errorf("notes = %v, want the backup named", h.notes())
		}
	})
}

func TestPartialLoadIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lerr := &settings.LoadError{Path: "/c/bore/config.json", Backup: "/c/bore/config.json.bad-1",
			Dropped: []string{"favorite 1 (local_port should be a number)"}}
		h := start(t, func(c *Config) { c.LoadErr = lerr })
		defer h.stop()
		if !hasNote(h.notes(), "left out part of its settings") || hasNote(h.notes(), "default settings") {
			t.Errorf("notes = %v, want a partial load reported as such", h.notes())
		}
	})
}

func TestOpenConfigAndAbout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		defer h.stop()
		h.click("config")
		h.click("about")
		if _, opened, _ := h.rec.get(); !slices.Equal(opened, []string{"/home/u/.config/bore"}) {
			t.Errorf("opened = %v", opened)
		}
		if !hasNote(h.notes(), "Bore 1.2.3") {
			t.Errorf("notes = %v", h.notes())
		}
	})
}

func TestQuit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		h.click("quit")
		if err := <-h.done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if !h.eng.isClosed() {
			t.Error("engine not closed on quit")
		}
		h.cancel()
	})
}

func savedCount(h *harness) int {
	_, _, n := h.rec.get()
	return n
}

func TestEngineStoppingEndsTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		close(h.eng.snaps)
		if err := <-h.done; err == nil || !strings.Contains(err.Error(), "restart Bore") {
			t.Errorf("Run = %v, want an error saying to restart", err)
		}
		if !h.eng.isClosed() {
			t.Error("engine not closed")
		}
		h.cancel()
	})
}

// blockingDialogs never answer until their context ends.
type blockingDialogs struct{ asked chan struct{} }

func (d blockingDialogs) Available() string { return "zenity" }

func (d blockingDialogs) Entry(ctx context.Context, title, prompt, initial string, _ func(string) error) (string, error) {
	d.asked <- struct{}{}
	<-ctx.Done()
	return "", ctx.Err()
}

func (d blockingDialogs) Password(ctx context.Context, title, prompt string) (string, error) {
	return d.Entry(ctx, title, prompt, "", nil)
}

func TestQuitWhileADialogIsOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dlg := blockingDialogs{asked: make(chan struct{}, 1)}
		h := start(t, func(c *Config) { c.Dialogs = dlg })
		h.click("share/other")
		<-dlg.asked
		h.click("quit") // the menu stays usable while the dialog is open
		if err := <-h.done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if n := len(h.notes()); n != 0 {
			t.Errorf("notes = %v, want none for a dialog closed by quitting", h.notes())
		}
		h.cancel()
	})
}
