package share

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boretray/bore/tunnel"
	"github.com/boretray/bore/tunnel/tunneltest"
	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startTunnel runs our server and a client for cfg on loopback and
// returns the public address.
func startTunnel(t *testing.T, cfg tunnel.ClientConfig) string {
	t.Helper()
	_, public := tunneltest.StartTunnel(t, cfg)
	return public
}

const bigSize = 100 << 20

// folder makes a folder to share, with hidden files and symlinks that
// lead in and out of it, and returns it and the big file's SHA-256.
func folder(t *testing.T) (string, [32]byte) {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "shared")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{dir, outside, filepath.Join(dir, "sub"), filepath.Join(dir, ".git")} {
		os.MkdirAll(d, 0o755)
	}
	files := map[string]string{
		"notes.txt":       "hello from a shared folder\n",
		"sub/data.json":   `{"ok":true}`,
		"page.html":       "<!doctype html><p>hi</p>",
		".env":            "SECRET=1",
		".git/config":     "[core]",
		"sub/.hidden.txt": "hidden",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside"), 0o644)
	for link, target := range map[string]string{
		"inside-link": "sub/data.json",
		"escape-file": filepath.Join(outside, "secret.txt"),
		"escape-dir":  "../outside",
		"escape-rel":  "../outside/secret.txt",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	rng := rand.New(rand.NewPCG(7, 8))
	buf := make([]byte, 1<<20)
	for range bigSize / len(buf) {
		for i := 0; i < len(buf); i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		f.Write(buf)
		h.Write(buf)
	}
	f.Close()
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return dir, sum
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// raw sends a request line as written, with no client cleaning it.
func raw(t *testing.T, addr, target string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestShareAFolderThroughATunnel(t *testing.T) {
	dir, sum := folder(t)
	cfg := tunnel.ClientConfig{}
	srv, err := Attach(&cfg, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	public := startTunnel(t, cfg)
	base := "http://" + public

	res, body := get(t, base+"/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("listing: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, name := range []string{"notes.txt", "sub/", "big.bin", "inside-link", "page.html"} {
		if !strings.Contains(body, `href="`+name+`"`) {
			t.Errorf("the listing lacks %s:\n%s", name, body)
		}
	}
	for _, name := range []string{".env", ".git", "escape-file", "escape-dir", "escape-rel"} {
		if strings.Contains(body, name) {
			t.Errorf("the listing shows %s", name)
		}
	}
	if _, sub := get(t, base+"/sub/"); strings.Contains(sub, ".hidden") || !strings.Contains(sub, "data.json") {
		t.Errorf("sub listing: %s", sub)
	}
	for path, ctype := range map[string]string{"/notes.txt": "text/plain; charset=utf-8", "/sub/data.json": "application/json", "/inside-link": "", "/page.html": "text/html; charset=utf-8"} {
		res, _ := get(t, base+path)
		if res.StatusCode != 200 || (ctype != "" && res.Header.Get("Content-Type") != ctype) {
			t.Errorf("%s: %d %q, want 200 %q", path, res.StatusCode, res.Header.Get("Content-Type"), ctype)
		}
	}
	for _, path := range []string{"/.env", "/.git/config", "/sub/.hidden.txt", "/escape-file", "/escape-dir/secret.txt", "/escape-rel", "/nope"} {
		if res, b := get(t, base+path); res.StatusCode != 404 || strings.Contains(b, "outside") || strings.Contains(b, "SECRET") {
			t.Errorf("%s: %d %q, want 404", path, res.StatusCode, b)
		}
	}
	for _, target := range []string{"/../outside/secret.txt", "/sub/../../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/sub%2f..%2f..%2foutside%2fsecret.txt", "/sub%5c..%5cnotes.txt", "/notes.txt%00.png", `/sub\..\notes.txt`} {
		if code := raw(t, public, target); code != 400 {
			t.Errorf("%s: %d, want 400", target, code)
		}
	}
	req, _ := http.NewRequest("PUT", base+"/notes.txt", strings.NewReader("overwrite"))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 405 {
		t.Errorf("PUT: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// The 100 MB file in four ranges, hashed in order.
	h := sha256.New()
	const parts = 4
	c := &http.Client{Timeout: 2 * time.Minute}
	for i := range parts {
		from, to := i*bigSize/parts, (i+1)*bigSize/parts-1
		req, _ := http.NewRequest("GET", base+"/big.bin", nil)
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to))
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusPartialContent || res.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", from, to, bigSize) {
			t.Fatalf("range %d: %d %q", i, res.StatusCode, res.Header.Get("Content-Range"))
		}
		n, err := io.Copy(h, res.Body)
		res.Body.Close()
		if err != nil || n != int64(to-from+1) {
			t.Fatalf("range %d: %d bytes, %v", i, n, err)
		}
	}
	if got := h.Sum(nil); string(got) != string(sum[:]) {
		t.Fatalf("SHA-256 of the ranged download %x, want %x", got, sum)
	}

	// Stopping the share stops the file server.
	srv.Close()
	if c, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("the file server still listens after Close")
	}
}

func TestShareOneFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "report.pdf"), []byte("%PDF-1.4"), 0o644)
	os.WriteFile(filepath.Join(dir, "other.txt"), []byte("no"), 0o644)
	srv, err := Start(filepath.Join(dir, "report.pdf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + srv.Addr()
	if res, b := get(t, base+"/"); res.StatusCode != 200 || !strings.Contains(b, "report.pdf") || strings.Contains(b, "other.txt") {
		t.Errorf("listing: %d %s", res.StatusCode, b)
	}
	if res, _ := get(t, base+"/report.pdf"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("the file: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res, _ := get(t, base+"/other.txt"); res.StatusCode != 404 {
		t.Errorf("another file in its folder: %d, want 404", res.StatusCode)
	}
}

func TestShareErrors(t *testing.T) {
	if _, err := Start(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil || !strings.Contains(err.Error(), "no such folder") {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := Start(t.TempDir(), Options{Listen: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("public listen address: %v", err)
	}
}
