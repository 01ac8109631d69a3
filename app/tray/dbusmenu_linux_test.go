//go:build linux

package tray_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/app/internal/desktoptest"
	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/app/tray"
	"github.com/boretray/bore/assets"
	"github.com/boretray/bore/tunnel"
)

// dbusmenuChildEnv marks the re-executed test process that runs the tray
// for TestDbusmenuClientSession.
const dbusmenuChildEnv = "BORE_TRAY_DBUSMENU_CHILD"

// sessionSteps is how many random menu changes the session makes.
const sessionSteps = 80

// maxTunnels is how many tunnels the session keeps open at most: the
// shell's spare items before the top-level separator. More tunnels at once
// rebuild the whole menu, which libdbusmenu survives with transient
// "Unable to replace properties" warnings.
const maxTunnels = 12

// TestDbusmenuClientSession reads the tray's menu through libdbusmenu, the
// library xfce4-panel, MATE, Cinnamon and GNOME's AppIndicator extension
// build their menus with. Unlike a host that asks for the whole layout
// afresh, libdbusmenu keeps its model across the change signals, so a long
// session of changes (servers added and removed, tunnels opened, failing
// and closed, preferences toggled, favorites saved and removed) must leave
// every submenu it holds with exactly the children Bore rendered, and it
// must log no warnings.
func TestDbusmenuClientSession(t *testing.T) {
	if os.Getenv(dbusmenuChildEnv) != "" {
		dbusmenuSession(t)
		return
	}
	need := func(what, install string, ok bool) {
		if ok {
			return
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; CI must install %s", what, install)
		}
		t.Skipf("%s is missing (install %s to test the menu as panels read it)", what, install)
	}
	_, err := exec.LookPath("dbus-daemon")
	need("dbus-daemon", "the dbus package", err == nil)
	python := dbusmenuPython()
	_, err = exec.LookPath("Xvfb")
	need("Xvfb", "the xvfb package", err == nil)
	need("libdbusmenu's Python binding", "the python3-gi, gir1.2-dbusmenu-glib-0.4 and gir1.2-dbusmenu-gtk3-0.4 packages", python != "")

	// A second session, with another seed, when the first ends with a
	// submenu libdbusmenu-gtk left empty: on a loaded machine a submenu
	// inside a new tunnel's submenu can stay empty there now and then
	// (a known weakness, see the shell's notes); anything else fails at
	// once, and so does the same failure twice.
	for attempt := 1; ; attempt++ {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestDbusmenuClientSession$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), dbusmenuChildEnv+"="+python, "GORACE=halt_on_error=0")
		out, err := cmd.CombinedOutput()
		if testing.Verbose() {
			t.Logf("tray process output:\n%s", out)
		}
		if err == nil || desktoptest.OnlyKnownRaces(string(out)) {
			return
		}
		if attempt == 1 && emptySubmenuOnly(string(out)) {
			t.Logf("the first libdbusmenu session left a submenu empty; trying a second session:\n%s", out)
			continue
		}
		t.Fatalf("the libdbusmenu session failed: %v\n%s", err, out)
	}
}

// emptySubmenuOnly reports whether a failed session failed only because
// libdbusmenu-gtk showed a submenu with no children.
func emptySubmenuOnly(out string) bool {
	return strings.Count(out, "libdbusmenu's menu differs") >= 1 && strings.Contains(out, "has 0 children") &&
		!strings.Contains(out, "panic:") && !strings.Contains(out, "libdbusmenu warned")
}

// dbusmenuPython returns a Python that has libdbusmenu's GObject binding,
// or "". The system's Python comes second: a python3 earlier in PATH (a
// virtualenv, pyenv) often lacks the Debian-packaged gi module.
func dbusmenuPython() string {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import gi; gi.require_version('Dbusmenu', '0.4'); gi.require_version('DbusmenuGtk3', '0.4')").Run() == nil {
			return py
		}
	}
	return ""
}

// dbusmenuSession runs in the child process: the shell on a private bus,
// the test as the StatusNotifierWatcher, and a libdbusmenu client.
func dbusmenuSession(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", desktoptest.SessionBus(t))
	t.Setenv("DISPLAY", desktoptest.Xvfb(t))
	t.Setenv("WAYLAND_DISPLAY", "")
	panel := desktoptest.StartPanel(t)

	shell := tray.NewShell(func(assets.Kind) []byte { return nil })
	s := newScript(t)
	ready := make(chan struct{})
	go systray.Run(func() {
		shell.Render(s.view())
		close(ready)
	}, nil)
	<-ready
	defer shell.Close()
	// Quit is not called: systray's exit path ends the process on Linux, and
	// the process ends with the test anyway.
	go func() {
		for range shell.Intents() {
		}
	}()

	sender := panel.WaitRegistered(t)
	v, err := panel.Conn.Object(sender, "/StatusNotifierItem").GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("reading the item's Menu property: %v", err)
	}
	c := startDbusmenuClient(t, os.Getenv(dbusmenuChildEnv), sender, string(v.Value().(dbus.ObjectPath)))

	menuPath := string(v.Value().(dbus.ObjectPath))
	c.check(t, 0, "the first menu", s.view())
	for step := 1; step <= sessionSteps; step++ {
		if step == sessionSteps/2 {
			// The panel restarts: a new libdbusmenu client reads the
			// whole menu as it is now.
			c.close(t)
			c = startDbusmenuClient(t, os.Getenv(dbusmenuChildEnv), sender, menuPath)
			c.check(t, step, "a panel restarted", s.view())
			continue
		}
		what := s.change()
		view := s.view()
		shell.Render(view)
		c.check(t, step, what, view)
	}
	c.close(t)
}

// rootWarning is what libdbusmenu-gtk logs about the root item at start.
const rootWarning = "The child-display variable is set to '(null)' but there's a menu, odd?"

// dbusmenuClient is testdata/dbusmenu_client.py, a libdbusmenu-glib
// client of the tray's menu.
type dbusmenuClient struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	answers *bufio.Scanner

	mu       sync.Mutex
	warnings []string
	stderr   chan struct{} // closed when stderr is drained
	checked  bool          // a check has passed: the first reading is over
}

func startDbusmenuClient(t *testing.T, python, name, path string) *dbusmenuClient {
	t.Helper()
	cmd := exec.Command(python, "testdata/dbusmenu_client.py", name, path)
	// GTK's accessibility bridge has nothing to talk to here and only adds
	// noise of its own to stderr.
	cmd.Env = append(os.Environ(), "NO_AT_BRIDGE=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the libdbusmenu client: %v", err)
	}
	c := &dbusmenuClient{cmd: cmd, in: in, answers: bufio.NewScanner(out), stderr: make(chan struct{})}
	c.answers.Buffer(nil, 1<<22)
	go func() {
		defer close(c.stderr)
		sc := bufio.NewScanner(errs)
		for sc.Scan() {
			line := sc.Text()
			// fyne.io/systray serves the root item without
			// children-display, and libdbusmenu-gtk says so once as it
			// builds the top menu; the menu is not affected.
			if strings.TrimSpace(line) == "" || strings.Contains(line, rootWarning) {
				continue
			}
			c.mu.Lock()
			c.warnings = append(c.warnings, line)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return c
}

// wantEntry is a rendered entry as the client script reads it.
type wantEntry struct {
	Label     string      `json:"label,omitempty"`
	Enabled   bool        `json:"enabled,omitempty"`
	Checkable bool        `json:"checkable,omitempty"`
	Checked   bool        `json:"checked,omitempty"`
	Separator bool        `json:"separator,omitempty"`
	Children  []wantEntry `json:"children,omitempty"`
}

func wantOf(es []app.MenuEntry) []wantEntry {
	out := []wantEntry{}
	for _, e := range es {
		out = append(out, wantEntry{Label: e.Label, Enabled: e.Enabled, Checkable: e.Checkable,
			Checked: e.Checked, Separator: e.Separator, Children: wantOf(e.Children)})
	}
	return out
}

// check waits until the client holds exactly v's menu, and fails the test
// when it does not or when libdbusmenu warned.
func (c *dbusmenuClient) check(t *testing.T, step int, what string, v app.View) {
	t.Helper()
	cmd, err := json.Marshal(map[string]any{"step": step, "want": wantOf(v.Menu)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.in.Write(append(cmd, '\n')); err != nil {
		t.Fatalf("step %d (%s): writing to the libdbusmenu client: %v", step, what, err)
	}
	if !c.answers.Scan() {
		c.cmd.Wait()
		<-c.stderr
		t.Fatalf("step %d (%s): the libdbusmenu client ended: %v\n%s", step, what, c.answers.Err(), c.stderrText())
	}
	var a struct {
		Step int
		OK   bool
		Why  string
	}
	if err := json.Unmarshal(c.answers.Bytes(), &a); err != nil || a.Step != step {
		t.Fatalf("step %d: bad answer from the libdbusmenu client (%v): %s", step, err, c.answers.Bytes())
	}
	if !a.OK {
		t.Fatalf("step %d (%s): libdbusmenu's menu differs from what Bore rendered: %s\nits warnings:\n%s",
			step, what, a.Why, c.stderrText())
	}
	if !c.checked {
		// A panel's first reading gets the whole menu at once, and fyne
		// answers its property requests in any order: libdbusmenu-gtk may
		// drop the children of a submenu two levels down that it realized
		// late, and say so. The shell then draws those again (which the
		// tree check above waited for); after that, no warning is allowed.
		c.checked = true
		c.mu.Lock()
		c.warnings = slices.DeleteFunc(c.warnings, func(w string) bool { return strings.Contains(w, "Children but no menu") })
		c.mu.Unlock()
	}
	if w := c.stderrText(); w != "" {
		t.Fatalf("step %d (%s): libdbusmenu warned:\n%s", step, what, w)
	}
	desktoptest.Logf("step %d: %s: libdbusmenu's menu is right", step, what)
}

func (c *dbusmenuClient) stderrText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.warnings, "\n")
}

// close ends the client and fails on any warning it printed on the way out.
func (c *dbusmenuClient) close(t *testing.T) {
	t.Helper()
	c.in.Close()
	c.cmd.Wait()
	<-c.stderr
	if w := c.stderrText(); w != "" {
		t.Fatalf("libdbusmenu warned:\n%s", w)
	}
}

// script is a random but reproducible session of what a user does to the
// tray's state.
type script struct {
	t    *testing.T
	rnd  *rand.Rand
	m    app.Model
	next tunnel.TunnelID
	port uint16
}

func newScript(t *testing.T) *script {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BORE_DBUSMENU_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	desktoptest.Logf("session seed %d (set BORE_DBUSMENU_SEED to replay)", seed)
	st := settings.Default()
	// Two servers and a favorite: the first menu already has submenus
	// two levels down (Server ▸ Remove ▸, Favorites ▸ Remove ▸).
	st.Servers = []settings.Server{{Host: "127.0.0.1", ControlPort: 7836}, {Host: "127.0.0.1", ControlPort: 7999}}
	st.CurrentServer = st.Servers[0].Key()
	st.Favorites = []settings.Favorite{{Name: "docs", LocalHost: "localhost", LocalPort: 8000, Server: st.CurrentServer}}
	return &script{
		t:   t,
		rnd: rand.New(rand.NewPCG(seed, 9)),
		m: app.Model{
			Version:         "test",
			Settings:        st,
			Ports:           []app.Port{{Port: 8080, Addr: "127.0.0.1", Process: "python3"}},
			Reach:           map[string]app.Reach{},
			StopAfter:       map[tunnel.TunnelID]app.StopTimer{},
			FavoriteTunnels: map[string]tunnel.TunnelID{},
		},
		next: 1,
		port: 7837,
	}
}

func (s *script) view() app.View { return app.Render(s.m) }

// change makes one random change and says what it was.
func (s *script) change() string {
	m := &s.m
	for {
		switch s.rnd.IntN(10) {
		case 0, 1: // add a server
			srv := settings.Server{Host: "127.0.0.1", ControlPort: s.port}
			s.port++
			m.Settings.Servers = append(m.Settings.Servers, srv)
			return "server " + srv.Key() + " added"
		case 2: // remove a server
			if len(m.Settings.Servers) < 2 {
				continue
			}
			i := s.rnd.IntN(len(m.Settings.Servers))
			key := m.Settings.Servers[i].Key()
			m.Settings.Servers = slices.Delete(slices.Clone(m.Settings.Servers), i, i+1)
			if m.Settings.CurrentServer == key {
				m.Settings.CurrentServer = m.Settings.Servers[0].Key()
			}
			return "server " + key + " removed"
		case 3: // select a server, and see it probed
			srv := m.Settings.Servers[s.rnd.IntN(len(m.Settings.Servers))]
			m.Settings.CurrentServer = srv.Key()
			m.Reach = maps(m.Reach)
			m.Reach[srv.Key()] = app.Reach{RTT: time.Duration(1+s.rnd.IntN(90)) * time.Millisecond}
			return "server " + srv.Key() + " selected"
		case 4, 5: // open a tunnel
			if len(m.Snapshot.Tunnels) >= maxTunnels {
				continue
			}
			srv := m.Settings.Servers[s.rnd.IntN(len(m.Settings.Servers))]
			st := tunnel.Status{ID: s.next, Server: srv.Host, ControlPort: srv.ControlPort,
				LocalHost: "localhost", LocalPort: uint16(8000 + s.rnd.IntN(4)),
				State: tunnel.StateOpen, RemotePort: uint16(20000 + int(s.next))}
			s.next++
			m.Snapshot.Tunnels = append(slices.Clone(m.Snapshot.Tunnels), st)
			return fmt.Sprintf("tunnel %d opened", st.ID)
		case 6: // close a tunnel, or see one reconnect or fail
			if len(m.Snapshot.Tunnels) == 0 {
				continue
			}
			i := s.rnd.IntN(len(m.Snapshot.Tunnels))
			tuns := slices.Clone(m.Snapshot.Tunnels)
			st := tuns[i]
			switch s.rnd.IntN(3) {
			case 0:
				tuns[i].State, tuns[i].Reason = tunnel.StateReconnecting, "connection refused"
				m.Snapshot.Tunnels = tuns
				return fmt.Sprintf("tunnel %d reconnecting", st.ID)
			case 1:
				tuns[i].State, tuns[i].Reason = tunnel.StateFailed, "wrong secret"
				m.Snapshot.Tunnels = tuns
				return fmt.Sprintf("tunnel %d failed", st.ID)
			}
			m.Snapshot.Tunnels = slices.Delete(tuns, i, i+1)
			return fmt.Sprintf("tunnel %d closed", st.ID)
		case 7: // toggle a preference
			p := &m.Settings
			switch s.rnd.IntN(4) {
			case 0:
				p.LaunchAtLogin = !p.LaunchAtLogin
			case 1:
				p.CopyOnOpen = !p.CopyOnOpen
			case 2:
				p.Notifications = !p.Notifications
			default:
				p.NotifyOnConnection = !p.NotifyOnConnection
			}
			return "a preference toggled"
		case 8: // save a tunnel as a favorite
			if len(m.Snapshot.Tunnels) == 0 {
				continue
			}
			st := m.Snapshot.Tunnels[s.rnd.IntN(len(m.Snapshot.Tunnels))]
			key := settings.Server{Host: st.Server, ControlPort: st.ControlPort}.Key()
			f := settings.Favorite{Name: "web", LocalHost: st.LocalHost, LocalPort: st.LocalPort, Server: key}
			fk := app.FavoriteKey(f)
			if slices.ContainsFunc(m.Settings.Favorites, func(g settings.Favorite) bool { return app.FavoriteKey(g) == fk }) {
				continue
			}
			m.Settings.Favorites = append(slices.Clone(m.Settings.Favorites), f)
			m.FavoriteTunnels = maps(m.FavoriteTunnels)
			m.FavoriteTunnels[fk] = st.ID
			return "favorite " + fk + " saved"
		default: // remove a favorite, or see the listening ports change
			if len(m.Settings.Favorites) == 0 || s.rnd.IntN(3) == 0 {
				p := app.Port{Port: uint16(8000 + s.rnd.IntN(6)), Addr: "127.0.0.1"}
				if i := slices.IndexFunc(m.Ports, func(q app.Port) bool { return q.Port == p.Port }); i >= 0 {
					m.Ports = slices.Delete(slices.Clone(m.Ports), i, i+1)
					return fmt.Sprintf("port %d closed", p.Port)
				}
				m.Ports = append(slices.Clone(m.Ports), p)
				return fmt.Sprintf("port %d listening", p.Port)
			}
			i := s.rnd.IntN(len(m.Settings.Favorites))
			fk := app.FavoriteKey(m.Settings.Favorites[i])
			m.Settings.Favorites = slices.Delete(slices.Clone(m.Settings.Favorites), i, i+1)
			return "favorite " + fk + " removed"
		}
	}
}

func maps[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
