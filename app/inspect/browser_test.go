package inspect

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium returns the browser to drive, skipping the test when there is
// none, except under CI, where the browser is required.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("BORE_CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI must install it (apt-get install chromium)")
	}
	t.Skip("skipping the browser test: chromium is not installed (apt-get install chromium)")
	return ""
}

// TestInspectorInABrowser opens the page in headless Chromium, sends
// requests through a real tunnel, and checks what the page shows: the
// requests with their method, path and status, a request's body, and a
// replay with an edited header beside the original response.
func TestInspectorInABrowser(t *testing.T) {
	exe := chromium(t)
	svc := httptest.NewServer(echoHTTP())
	defer svc.Close()
	in := newInspector(t, svc.Listener.Addr().String(), Options{Title: "localhost:3000 → bore.example.com:41234"})
	public := startTunnel(t, svc.Listener.Addr().String(), in)

	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	defer acancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	defer tcancel()

	type css = chromedp.CSS
	if err := chromedp.Do(ctx,
		chromedp.Navigate(in.URL()),
		chromedp.WaitVisible(css("#live.on")),
	); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(loc, "token") {
		t.Errorf("the token stays in the address bar: %s", loc)
	}

	c := &http.Client{Timeout: 10 * time.Second}
	send := func(method, path, ctype, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+public+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("User-Agent", "webhook-sender/1.0")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	send("GET", "/hello?name=bore", "", "")
	send("POST", "/webhook", "application/json", `{"event":"payment.succeeded","amount":4200,"currency":"eur","customer":{"id":"cus_123","email":"ada@example.com"}}`)
	send("PUT", "/api/items/7", "application/x-www-form-urlencoded", "name=lamp&colour=green")
	send("GET", "/missing", "", "")
	send("DELETE", "/api/items/3", "", "")
	// A connection that is not HTTP/1.x: listed as a connection.
	tls, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	tls.SetDeadline(time.Now().Add(10 * time.Second))
	tls.Write([]byte("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03client hello\r\n\r\n"))
	io.Copy(io.Discard, tls) // the service answers 400 and closes
	tls.Close()

	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(css(`#rows tr[data-path="/api/items/3"] td.status.s2`)),
		chromedp.WaitVisible(css(`#rows tr.conn`)),
	); err != nil {
		t.Fatalf("requests in the list: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('#rows tr.http')].map(r => [r.querySelector('.method').textContent, r.querySelector('.path').textContent, r.querySelector('.status').textContent])`))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"DELETE", "/api/items/3", "200"}, {"GET", "/missing", "404"}, {"PUT", "/api/items/7", "200"}, {"POST", "/webhook", "200"}, {"GET", "/hello?name=bore", "200"}}
	if len(rows) != len(want) {
		t.Fatalf("the page lists %v, want %v", rows, want)
	}
	for i := range want {
		if strings.Join(rows[i], " ") != strings.Join(want[i], " ") {
			t.Errorf("row %d: %v, want %v", i, rows[i], want[i])
		}
	}

	// Filters.
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))(ctx, tg)
			return err
		})
	}
	input := func(id, v string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(() => { const e = document.getElementById('`+id+`'); e.value = '`+v+`'; e.dispatchEvent(new Event('input')); return true; })()`)(ctx, tg)
			return err
		})
	}
	if err := chromedp.Do(ctx,
		input("f-status", "4xx"),
		poll(`document.querySelectorAll('#rows tr.item').length === 1 && document.querySelector('#rows tr.item').dataset.status === '404'`),
		input("f-status", ""),
		input("f-path", "web"),
		poll(`document.querySelectorAll('#rows tr.item').length === 1 && document.querySelector('#rows tr.item').dataset.path === '/webhook'`),
		input("f-path", ""),
		poll(`document.querySelectorAll('#rows tr.item').length === 6`),
	); err != nil {
		t.Fatalf("filters: %v", err)
	}

	// The webhook's details: its body as pretty JSON.
	if err := chromedp.Do(ctx,
		chromedp.Click(css(`#rows tr[data-path="/webhook"]`)),
		chromedp.WaitVisible(css(`pre.body-json`)),
	); err != nil {
		t.Fatalf("request details: %v", err)
	}
	body, _ := chromedp.Run(ctx, chromedp.Text(css(`pre.body-json`)))
	if !strings.Contains(body, `"event": "payment.succeeded"`) {
		t.Errorf("the webhook's body shows as %q", body)
	}

	// Replay it with an edited header: the new response is shown beside
	// the original.
	if err := chromedp.Do(ctx,
		chromedp.Click(css(`#tab-replay`)),
		chromedp.WaitVisible(css(`#r-headers`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(() => { const h = document.getElementById('r-headers'); h.value = h.value + 'X-Test: replayed-by-bore\n'; return true; })()`)(ctx, tg)
			return err
		}),
		chromedp.Click(css(`#replay-btn`)),
		chromedp.WaitVisible(css(`#replay-new .status-line`)),
	); err != nil {
		t.Fatalf("replay: %v", err)
	}
	oldStatus, _ := chromedp.Run(ctx, chromedp.Text(css(`#replay-old .status-line .status`)))
	newStatus, _ := chromedp.Run(ctx, chromedp.Text(css(`#replay-new .status-line .status`)))
	newBody, _ := chromedp.Run(ctx, chromedp.Text(css(`#replay-new pre`)))
	if oldStatus != "200" || newStatus != "200" || !strings.Contains(newBody, "replayed-by-bore") {
		t.Errorf("replay: original %q, new %q %q", oldStatus, newStatus, newBody)
	}

	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("BORE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "inspector.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// Clear empties the list, and new traffic still appears after it.
	if err := chromedp.Do(ctx,
		chromedp.Click(css(`#clear`)),
		poll(`document.querySelectorAll('#rows tr.item').length === 0`),
	); err != nil {
		t.Fatalf("clear: %v", err)
	}
	send("GET", "/after-clear", "", "")
	if err := chromedp.Do(ctx, poll(`document.querySelectorAll('#rows tr.item').length === 1 && document.querySelector('#rows tr.item').dataset.path === '/after-clear'`)); err != nil {
		t.Fatalf("after clear: %v", err)
	}
}
