//go:build linux

package trayapp_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adrg/xdg"
	"github.com/godbus/dbus/v5"

	"github.com/boretray/bore/app/internal/desktoptest"
	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/app/trayapp"
	"github.com/boretray/bore/tunnel"
	"github.com/boretray/bore/tunnel/tunneltest"
)

// childEnv marks the re-executed test process that runs the tray.
const childEnv = "BORE_TRAY_E2E_CHILD"

// TestTrayEndToEnd runs trayEndToEnd in a fresh process: systray keeps
// process-global state and supports one tray per process, so this keeps
// the test correct under -count=N and away from any other test.
func TestTrayEndToEnd(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		trayEndToEnd(t)
		return
	}
	desktoptest.NeedTools(t, "the dbus, xvfb and xclip packages", "dbus-daemon", "Xvfb", "xclip")
	out := desktoptest.RunChild(t, "TestTrayEndToEnd", childEnv, "1")
	for _, line := range []string{"bore: no system tray host on the session bus yet", "bore: a system tray host started"} {
		if !strings.Contains(out, line) {
			t.Errorf("stderr lacks %q while the tray waited for a panel:\n%s", line, out)
		}
	}
}

// trayEndToEnd runs the real tray app (trayapp.Main) against a private session bus on
// which the test plays the panel (StatusNotifierWatcher) and the
// notification server, a real bore server and local service on loopback,
// and a headless X server for the clipboard. It drives the menu over
// com.canonical.dbusmenu exactly as a panel does.
func trayEndToEnd(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(home, "run"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	if err := os.MkdirAll(filepath.Join(home, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	xdg.Reload()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", desktoptest.SessionBus(t))
	t.Setenv("DISPLAY", desktoptest.Xvfb(t))
	t.Setenv("WAYLAND_DISPLAY", "")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ctlPort := startBoreServer(t)
	local, received := startLocalService(t)
	localPort := local.Addr().(*net.TCPAddr).Port

	configPath := filepath.Join(home, "config", "bore", "config.json")
	s := settings.Default()
	// Only the loopback server: the app probes every saved server, and a
	// test never sends traffic off this machine (no bore.pub).
	srv := settings.Server{Host: "127.0.0.1", ControlPort: uint16(ctlPort)}
	s.Servers = []settings.Server{srv}
	s.CurrentServer = srv.Key()
	store := &settings.Store{Path: configPath}
	if err := store.Save(s); err != nil {
		t.Fatal(err)
	}

	exited := make(chan int, 1)
	go func() { exited <- trayapp.Main(ctx, trayapp.Options{Version: "e2e", ConfigPath: configPath}) }()
	defer func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("trayapp.Main did not return after its context was cancelled")
		}
	}()

	// The panel starts after the app, as it often does at login: the app
	// keeps waiting and registers when the panel appears.
	bus, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	desktoptest.WaitFor(t, "the tray to export its item with no panel running", func() (bool, bool) {
		var names []string
		if err := bus.BusObject().Call("org.freedesktop.DBus.ListNames", 0).Store(&names); err != nil {
			return false, false
		}
		return true, slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "org.kde.StatusNotifierItem-") })
	})
	select {
	case code := <-exited:
		t.Fatalf("trayapp.Main exited (%d) with no panel running; it must wait for one", code)
	default:
	}
	panel := desktoptest.StartPanel(t)
	sender := panel.WaitRegistered(t)
	item := panel.Conn.Object(sender, "/StatusNotifierItem")
	v, err := item.GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("reading the item's Menu property: %v", err)
	}
	menu := panel.Conn.Object(sender, v.Value().(dbus.ObjectPath))

	// Share a port ▸ shows the port the local service listens on.
	share := desktoptest.WaitFor(t, "the shared port in the menu", func() (entry, bool) {
		return find(getLayout(t, menu), func(e entry) bool {
			return e.label == strconv.Itoa(localPort) || strings.HasPrefix(e.label, strconv.Itoa(localPort)+" — ")
		})
	})
	// Share says where it goes; the Server menu, probed, says the server
	// answers.
	if _, ok := find(getLayout(t, menu), func(e entry) bool { return e.label == "Share a port via "+srv.Key() }); !ok {
		t.Errorf("no \"Share a port via %s\" in the menu", srv.Key())
	}
	desktoptest.WaitFor(t, "the server's reachability in the Server menu", func() (entry, bool) {
		return find(getLayout(t, menu), func(e entry) bool {
			return strings.HasPrefix(e.label, srv.Key()+" · ") && strings.HasSuffix(e.label, " ms")
		})
	})
	click(t, menu, share.id)

	// A notification names the public address, which is on the clipboard.
	re := regexp.MustCompile(`is public at (127\.0\.0\.1:\d+) — address copied`)
	addr := desktoptest.WaitFor(t, "the tunnel-open notification", func() (string, bool) {
		for _, n := range panel.Notes() {
			if m := re.FindStringSubmatch(n); m != nil {
				return m[1], true
			}
		}
		return "", false
	})
	if got := desktoptest.Clipboard(t); got != addr {
		t.Errorf("clipboard = %q, want %q", got, addr)
	}

	// A visitor's bytes reach the local service, and its answer comes back.
	visitor, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("visiting %s: %v", addr, err)
	}
	defer visitor.Close()
	if _, err := visitor.Write([]byte("hello through bore\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-received:
		if got != "hello through bore" {
			t.Errorf("local service got %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the visitor's bytes never reached the local service")
	}
	visitor.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, err := bufio.NewReader(visitor).ReadString('\n')
	if err != nil || reply != "echo: hello through bore\n" {
		t.Errorf("visitor read %q, %v", reply, err)
	}

	// The tunnel's statistics count the visitor while it stays, and not
	// after it left.
	stats := func(want string) {
		t.Helper()
		desktoptest.WaitFor(t, "the statistics line \""+want+" · …\"", func() (entry, bool) {
			tun, ok := find(getLayout(t, menu), func(e entry) bool { return strings.HasSuffix(e.label, "→ "+addr) })
			if !ok {
				return entry{}, false
			}
			return find(tun.children, func(e entry) bool { return strings.HasPrefix(e.label, want+" · ") })
		})
	}
	stats("1 connection")
	visitor.Close()
	stats("0 connections")

	// Save as favorite writes the settings file.
	save := desktoptest.WaitFor(t, "Save as favorite", func() (entry, bool) {
		tun, ok := find(getLayout(t, menu), func(e entry) bool { return strings.HasSuffix(e.label, "→ "+addr) })
		if !ok {
			return entry{}, false
		}
		return find(tun.children, func(e entry) bool { return e.label == "Save as favorite" && e.enabled })
	})
	click(t, menu, save.id)
	desktoptest.WaitFor(t, "the favorite in the settings file", func() (bool, bool) {
		saved, err := (&settings.Store{Path: configPath}).Load()
		if err != nil {
			return false, false
		}
		for _, f := range saved.Favorites {
			if int(f.LocalPort) == localPort && f.Server == srv.Key() {
				return true, true
			}
		}
		return false, false
	})

	// The Favorites menu, rebuilt in place, lists it as running.
	desktoptest.WaitFor(t, "the running favorite in the Favorites menu", func() (entry, bool) {
		favs, ok := find(getLayout(t, menu), func(e entry) bool { return e.label == "Favorites" })
		if !ok {
			return entry{}, false
		}
		return find(favs.children, func(e entry) bool {
			return strings.Contains(e.label, ":"+strconv.Itoa(localPort)+" → ") && e.checked
		})
	})

	// Quit stops everything: Main returns and the public port closes.
	quit, ok := find(getLayout(t, menu), func(e entry) bool { return e.label == "Quit" })
	if !ok {
		t.Fatal("no Quit item")
	}
	// The app may leave the bus before it answers a click on Quit, as a
	// panel's click on Quit can go unanswered: send it without waiting.
	if call := menu.Go("com.canonical.dbusmenu.Event", dbus.FlagNoReplyExpected, nil, quit.id, "clicked", dbus.MakeVariant(""), uint32(0)); call.Err != nil {
		t.Fatalf("clicking Quit: %v", call.Err)
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("trayapp.Main returned %d, want 0", code)
		}
		exited <- code // for the deferred wait
	case <-time.After(10 * time.Second):
		t.Fatal("the app did not quit")
	}
	desktoptest.WaitFor(t, "the public port to close", func() (bool, bool) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true, true
		}
		c.Close()
		return false, false
	})
}

// startBoreServer runs our bore server on loopback and returns its
// control port.
func startBoreServer(t *testing.T) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(tunneltest.StartServer(t, tunnel.ServerConfig{}))
	n, _ := strconv.Atoi(port)
	return n
}

// startLocalService answers each line with "echo: " and the line, and
// reports the lines it got.
func startLocalService(t *testing.T) (net.Listener, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					got <- strings.TrimSuffix(line, "\n")
					if _, err := io.WriteString(c, "echo: "+line); err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln, got
}

// entry is one dbusmenu item as a panel sees it.
type entry struct {
	id       int32
	label    string
	enabled  bool
	visible  bool
	checked  bool
	children []entry
}

func getLayout(t *testing.T, menu dbus.BusObject) []entry {
	t.Helper()
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	call := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if err := call.Store(&rev, &root); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	return toEntries(root.Children)
}

func toEntries(vs []dbus.Variant) []entry {
	var out []entry
	for _, v := range vs {
		fields, ok := v.Value().([]any)
		if !ok || len(fields) != 3 {
			continue
		}
		id, _ := fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		kids, _ := fields[2].([]dbus.Variant)
		e := entry{id: id, enabled: true, visible: true, children: toEntries(kids)}
		if l, ok := props["label"]; ok {
			e.label, _ = l.Value().(string)
		}
		if en, ok := props["enabled"]; ok {
			e.enabled, _ = en.Value().(bool)
		}
		if ts, ok := props["toggle-state"]; ok {
			n, _ := ts.Value().(int32)
			e.checked = n == 1
		}
		if vis, ok := props["visible"]; ok {
			e.visible, _ = vis.Value().(bool)
		}
		out = append(out, e)
	}
	return out
}

// find returns the first visible entry, depth first, that matches.
func find(es []entry, match func(entry) bool) (entry, bool) {
	for _, e := range es {
		if !e.visible {
			continue
		}
		if match(e) {
			return e, true
		}
		if c, ok := find(e.children, match); ok {
			return c, true
		}
	}
	return entry{}, false
}

func click(t *testing.T, menu dbus.BusObject, id int32) {
	t.Helper()
	call := menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0))
	if call.Err != nil {
		t.Fatalf("clicking item %d: %v", id, call.Err)
	}
}
