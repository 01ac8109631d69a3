package trayapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/app/desktop"
	"github.com/boretray/bore/tunnel"
	"github.com/boretray/bore/tunnel/tunneltest"
)

// loopbackServer runs a bore server on loopback and returns its control
// port.
func loopbackServer(t *testing.T) uint16 {
	t.Helper()
	_, port, _ := net.SplitHostPort(tunneltest.StartServer(t, tunnel.ServerConfig{}))
	n, _ := strconv.Atoi(port)
	return uint16(n)
}

// openAddr waits until tunnel id is open and returns its public address.
func openAddr(t *testing.T, e *engine, id tunnel.TunnelID) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if st, ok := e.m.Snapshot().Find(id); ok && st.State == tunnel.StateOpen {
			return st.PublicAddr()
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("tunnel %d did not open", id)
	return ""
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	// A jar keeps the cookie the inspector sets from its token.
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: 10 * time.Second, Jar: jar, Transport: tr}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The engine turns a running tunnel's inspector on and off: the page
// answers while it is on and lists a request that went through the
// tunnel, and it is gone once turned off or the tunnel stops.
func TestEngineInspectsARunningTunnel(t *testing.T) {
	ctl := loopbackServer(t)
	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from", r.URL.Path)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go web.Serve(ln)
	defer web.Close()

	e := newEngine(tunnel.NewManager(), slog.New(slog.DiscardHandler))
	defer e.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	id, err := e.Start(tunnel.ClientConfig{Server: "127.0.0.1", ControlPort: ctl, LocalHost: "127.0.0.1", LocalPort: port})
	if err != nil {
		t.Fatal(err)
	}
	addr := openAddr(t, e, id)
	target := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))
	page, err := e.Inspect(id, target, "web")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.Inspect(id, target, "web"); err != nil || again != page {
		t.Errorf("inspecting again = %q, %v; want the same page %q", again, err, page)
	}
	pu, err := url.Parse(page)
	if err != nil || !strings.HasPrefix(pu.Host, "127.0.0.1:") || pu.Query().Get("token") == "" {
		t.Fatalf("page URL %q: want 127.0.0.1 and a token", page)
	}
	if code, _ := get(t, page); code != http.StatusOK {
		t.Errorf("the page answered %d", code)
	}
	if code, body := get(t, "http://"+addr+"/through-the-tunnel"); code != http.StatusOK || !strings.Contains(body, "hello from /through-the-tunnel") {
		t.Errorf("through the tunnel: %d %q", code, body)
	}
	items := "http://" + pu.Host + "/api/items?token=" + pu.Query().Get("token")
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, items)
		if strings.Contains(body, "/through-the-tunnel") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the inspector never listed the request: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	e.StopInspecting(id)
	if c, err := net.DialTimeout("tcp", pu.Host, time.Second); err == nil {
		c.Close()
		t.Error("the inspector's page still answers after it was turned off")
	}
	// Off again: the tunnel keeps working on its direct path.
	if code, _ := get(t, "http://"+addr+"/direct"); code != http.StatusOK {
		t.Errorf("after turning the inspector off the tunnel answered %d", code)
	}
	e.Stop(id)
	if _, err := e.Inspect(id, target, "web"); err == nil {
		t.Error("a stopped tunnel was inspected")
	}
	e.StopInspecting(id) // nothing to stop: no panic
}

func TestFileServerServesAndStops(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("shared bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, stop, err := fileServer{}.Serve(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(int(port))
	if code, body := get(t, base+"/hello.txt"); code != http.StatusOK || body != "shared bytes" {
		t.Errorf("GET hello.txt: %d %q", code, body)
	}
	stop()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(port)), time.Second); err == nil {
		c.Close()
		t.Error("the file server still answers after stop")
	}
	if _, _, err := (fileServer{}).Serve(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "no such folder") {
		t.Errorf("serving a missing folder: %v", err)
	}
}

func TestPickerReportsInAppTerms(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script fake")
	}
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	p := picker{desktop.NewDialogs()}
	if p.Available() != "" {
		t.Fatalf("a picker found on an empty PATH: %q", p.Available())
	}
	if _, err := p.Pick(context.Background(), true, "Share a folder"); !errors.Is(err, app.ErrNoDialogs) {
		t.Errorf("no picker: %v, want app.ErrNoDialogs", err)
	}
	script := "#!/bin/sh\nfor a; do [ \"$a\" = --directory ] && { echo /srv/folder; exit 0; }; done\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "zenity"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Pick(context.Background(), true, "Share a folder"); err != nil || got != "/srv/folder" {
		t.Errorf("folder: %q, %v", got, err)
	}
	if _, err := p.Pick(context.Background(), false, "Share a file"); !errors.Is(err, app.ErrCancelled) {
		t.Errorf("cancelled file picker: %v, want app.ErrCancelled", err)
	}
}
