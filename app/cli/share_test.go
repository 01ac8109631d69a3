package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitLine waits for a log line containing prefix and returns the first
// word after it.
func waitLine(t *testing.T, out *syncBuffer, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if i := strings.Index(out.String(), prefix); i >= 0 {
			if f := strings.Fields(out.String()[i+len(prefix):]); len(f) > 0 {
				return f[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line: %s", prefix, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestShareCommand(t *testing.T) {
	t.Parallel()
	ctrl, _ := startServerCmd(t, nil)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("shared bytes"), 0o644)
	os.WriteFile(filepath.Join(dir, ".secret"), []byte("no"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	env := map[string]string{"BORE_SERVER": fmt.Sprintf("127.0.0.1:%d", ctrl)}
	go func() {
		done <- Run(ctx, []string{"share", dir}, IO{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &out}, "test")
	}()
	url := waitLine(t, &out, "(read-only) at ")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("public URL %q", url)
	}
	res, err := http.Get(url + "hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "shared bytes" {
		t.Errorf("through the share: %q", b)
	}
	if res, err := http.Get(url + ".secret"); err != nil || res.StatusCode != 404 {
		t.Errorf("hidden file: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d after cancel: %s", code, out.String())
	}
}

func TestShareUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"share", "--to", "x"}, ExitUsage, "<DIR>"},
		{[]string{"share", "."}, ExitUsage, "--to <SERVER>"},
		{[]string{"share", ".", "b", "--to", "x"}, ExitUsage, "unexpected argument"},
		{[]string{"share", filepath.Join(t.TempDir(), "gone"), "--to", "x"}, ExitRuntime, "no such folder"},
		{[]string{"local", "1", "--to", "x", "--inspect=0.0.0.0:4040"}, ExitRuntime, "loopback"},
	} {
		code, _, errOut := run(t, context.Background(), nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	if _, out, _ := run(t, context.Background(), nil, "share", "--help"); !strings.Contains(out, "BORE_SERVER") || !strings.Contains(out, "read-only") {
		t.Errorf("share help: %s", out)
	}
	if _, out, _ := run(t, context.Background(), nil, "local", "--help"); !strings.Contains(out, "--inspect") {
		t.Error("local help lacks --inspect")
	}
}

func TestLocalInspect(t *testing.T) {
	t.Parallel()
	ctrl, _ := startServerCmd(t, nil)
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	defer svc.Close()
	port := svc.Listener.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"local", fmt.Sprint(port), "--local-host", "127.0.0.1", "--to", fmt.Sprintf("127.0.0.1:%d", ctrl), "--inspect"},
			IO{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out}, "test")
	}()
	page := waitLine(t, &out, "inspect traffic at ")
	public := waitLine(t, &out, "listening at ")
	res, err := http.Get("http://" + public + "/webhook?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	if res, err := c.Get(page); err != nil || res.StatusCode != 200 {
		t.Fatalf("the inspector page: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	base := page[:strings.Index(page, "/?token=")]
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := c.Get(base + "/api/items")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(b), `"path":"/webhook?x=1"`) && strings.Contains(string(b), `"status":200`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request is not on the page: %s", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d: %s", code, out.String())
	}
}
