//go:build linux

package trayapp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"
	"github.com/godbus/dbus/v5"

	"github.com/boretray/bore/app/internal/desktoptest"
	"github.com/boretray/bore/app/settings"
	"github.com/boretray/bore/app/trayapp"
)

// shareChildEnv marks the re-executed test process that runs the tray for
// TestTrayShareAndInspect.
const shareChildEnv = "BORE_TRAY_SHARE_E2E_CHILD"

// TestTrayShareAndInspect runs trayShareAndInspect in a fresh process, for
// the same reason as TestTrayEndToEnd: one systray per process.
func TestTrayShareAndInspect(t *testing.T) {
	if os.Getenv(shareChildEnv) != "" {
		trayShareAndInspect(t)
		return
	}
	desktoptest.NeedTools(t, "the dbus, xvfb and xclip packages", "dbus-daemon", "Xvfb", "xclip")
	desktoptest.RunChild(t, "TestTrayShareAndInspect", shareChildEnv, "1")
}

// trayShareAndInspect runs the real tray app against a private session
// bus where the test plays the panel and the notification server, with a
// stub zenity (the folder picker) and a stub xdg-open (the browser) on
// PATH. It clicks "Share a folder…", downloads a file through the tunnel
// from the link on the clipboard, turns "Inspect traffic" on, reads the
// inspector's page at the address the browser was given, and stops the
// share.
func trayShareAndInspect(t *testing.T) {
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

	// The folder to share: a file with random content, and a hidden one
	// that must not be served.
	folder := filepath.Join(home, "Photos")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	content := make([]byte, 3<<20)
	rand.Read(content)
	if err := os.WriteFile(filepath.Join(folder, "holiday.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, ".secret"), []byte("hidden"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Stub tools: zenity answers the folder picker with the folder (and
	// records that it was asked for a folder); xdg-open records what it
	// was asked to open.
	stubs := filepath.Join(home, "stubs")
	opened := filepath.Join(home, "opened.txt")
	asked := filepath.Join(home, "zenity-argv.txt")
	writeStub(t, filepath.Join(stubs, "zenity"), "printf '%s\\n' \"$@\" >> '"+asked+"'\nprintf '%s\\n' '"+folder+"'\n")
	writeStub(t, filepath.Join(stubs, "xdg-open"), "printf '%s\\n' \"$1\" >> '"+opened+"'\n")
	t.Setenv("PATH", stubs+string(os.PathListSeparator)+os.Getenv("PATH"))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ctlPort := startBoreServer(t)
	configPath := filepath.Join(home, "config", "bore", "config.json")
	s := settings.Default()
	srv := settings.Server{Host: "127.0.0.1", ControlPort: uint16(ctlPort)}
	s.Servers = []settings.Server{srv}
	s.CurrentServer = srv.Key()
	if err := (&settings.Store{Path: configPath}).Save(s); err != nil {
		t.Fatal(err)
	}

	panel := desktoptest.StartPanel(t)
	exited := make(chan int, 1)
	go func() {
		exited <- trayapp.Main(ctx, trayapp.Options{Version: "e2e", ConfigPath: configPath,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	}()
	defer func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("trayapp.Main did not return after its context was cancelled")
		}
	}()
	sender := panel.WaitRegistered(t)
	v, err := panel.Conn.Object(sender, "/StatusNotifierItem").GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("reading the item's Menu property: %v", err)
	}
	menu := panel.Conn.Object(sender, v.Value().(dbus.ObjectPath))

	// Share a folder… → the picker → a share, its link copied and told.
	shareItem := desktoptest.WaitFor(t, "an enabled \"Share a folder…\"", func() (entry, bool) {
		return find(getLayout(t, menu), func(e entry) bool { return e.label == "Share a folder…" && e.enabled })
	})
	click(t, menu, shareItem.id)
	re := regexp.MustCompile(`Sharing Photos \(read-only\) at (http://127\.0\.0\.1:\d+/) — link copied`)
	link := desktoptest.WaitFor(t, "the share's notification", func() (string, bool) {
		for _, n := range panel.Notes() {
			if m := re.FindStringSubmatch(n); m != nil {
				return m[1], true
			}
		}
		return "", false
	})
	if got := desktoptest.Clipboard(t); got != link {
		t.Errorf("clipboard = %q, want %q", got, link)
	}
	if argv, err := os.ReadFile(asked); err != nil || !strings.Contains(string(argv), "--directory") {
		t.Errorf("zenity was not asked for a folder: %q, %v", argv, err)
	}

	// The file comes through the tunnel whole; the listing names it; the
	// hidden file is not served.
	client := newBrowser(t)
	if code, body := client.get(link + "holiday.bin"); code != http.StatusOK || sha256.Sum256([]byte(body)) != sha256.Sum256(content) {
		t.Errorf("download through the tunnel: status %d, %d bytes, want %d matching bytes", code, len(body), len(content))
	}
	if code, body := client.get(link); code != http.StatusOK || !strings.Contains(body, "holiday.bin") || strings.Contains(body, ".secret") {
		t.Errorf("listing: %d %q", code, body)
	}
	if code, _ := client.get(link + ".secret"); code != http.StatusNotFound {
		t.Errorf("hidden file: status %d, want 404", code)
	}

	// The share is a tunnel line with Inspect traffic and Stop.
	public := strings.TrimSuffix(strings.TrimPrefix(link, "http://"), "/")
	line := func() (entry, bool) {
		return find(getLayout(t, menu), func(e entry) bool { return e.label == "Sharing Photos → "+public })
	}
	child := func(label string) entry {
		t.Helper()
		return desktoptest.WaitFor(t, "\""+label+"\" in the share's submenu", func() (entry, bool) {
			l, ok := line()
			if !ok {
				return entry{}, false
			}
			return find(l.children, func(e entry) bool { return e.label == label && e.enabled })
		})
	}
	inspectItem := child("Inspect traffic")
	if inspectItem.checked {
		t.Error("Inspect traffic is on before it was clicked")
	}
	click(t, menu, inspectItem.id)

	// The browser is given the inspector's page, on loopback, with its
	// token; the page answers and lists a request made through the tunnel.
	page := desktoptest.WaitFor(t, "the browser to be given the inspector's page", func() (string, bool) {
		b, err := os.ReadFile(opened)
		if err != nil {
			return "", false
		}
		first, _, _ := strings.Cut(string(b), "\n")
		return first, first != ""
	})
	pu, err := url.Parse(page)
	if err != nil || !strings.HasPrefix(pu.Host, "127.0.0.1:") || pu.Query().Get("token") == "" {
		t.Fatalf("inspector page %q: want a 127.0.0.1 address with a token", page)
	}
	if code, body := client.get(page); code != http.StatusOK || !strings.Contains(body, "<title>Bore inspector</title>") {
		t.Errorf("inspector page: %d %q", code, body[:min(len(body), 200)])
	}
	// A new connection: open ones keep the path they started on.
	if code, _ := newBrowser(t).get(link + "?seen-by=inspector"); code != http.StatusOK {
		t.Errorf("download while inspected: status %d", code)
	}
	var items string
	defer func() {
		if t.Failed() {
			desktoptest.Logf("the inspector's items: %s", items)
		}
	}()
	desktoptest.WaitFor(t, "the inspector to list the request", func() (bool, bool) {
		_, items = client.get("http://" + pu.Host + "/api/items")
		return true, strings.Contains(items, "seen-by=inspector")
	})
	if e := child("Inspect traffic"); !e.checked {
		t.Error("Inspect traffic is not checked while the inspector runs")
	}
	click(t, menu, child("Open inspector").id)
	desktoptest.WaitFor(t, "Open inspector to open the page again", func() (bool, bool) {
		b, _ := os.ReadFile(opened)
		return true, strings.Count(string(b), page+"\n") == 2
	})

	// Stop ends the share: the public port and the inspector's page close.
	click(t, menu, child("Stop").id)
	desktoptest.WaitFor(t, "the share's public port and the inspector's page to close", func() (bool, bool) {
		for _, addr := range []string{public, pu.Host} {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				return false, false
			}
		}
		return true, true
	})
	desktoptest.WaitFor(t, "the share's line to go", func() (bool, bool) {
		_, ok := line()
		return true, !ok
	})

	quit, ok := find(getLayout(t, menu), func(e entry) bool { return e.label == "Quit" })
	if !ok {
		t.Fatal("no Quit item")
	}
	if call := menu.Go("com.canonical.dbusmenu.Event", dbus.FlagNoReplyExpected, nil, quit.id, "clicked", dbus.MakeVariant(""), uint32(0)); call.Err != nil {
		t.Fatalf("clicking Quit: %v", call.Err)
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("trayapp.Main returned %d, want 0", code)
		}
		exited <- code
	case <-time.After(10 * time.Second):
		t.Fatal("the app did not quit")
	}
}

func writeStub(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// browser is an HTTP client that keeps cookies, as a browser does: the
// inspector trades its token for one.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// A transport of its own: its connections are its own, as a new
	// browser's are.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr}}
}

func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, resp.Body); err != nil {
		b.t.Fatalf("GET %s: reading the body: %v", u, err)
	}
	return resp.StatusCode, buf.String()
}
