package inspect

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPageRefusesStrangers(t *testing.T) {
	in := newInspector(t, "127.0.0.1:1", Options{})
	base := "http://" + in.Addr()
	u, _ := url.Parse(in.URL())
	token := u.Query().Get("token")
	if len(token) < 32 {
		t.Fatalf("token %q is too short to be unguessable", token)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 5 * time.Second}
	get := func(path string, edit func(*http.Request)) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if edit != nil {
			edit(req)
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	for _, path := range []string{"/", "/api/items", "/api/events", "/static/app.js", "/?token=wrong" + token[5:]} {
		if res := get(path, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s without the token: %d, want 403", path, res.StatusCode)
		}
	}
	// DNS rebinding: a page at evil.example that resolves to 127.0.0.1
	// sends its own Host header.
	res := get("/api/items?token="+token, func(r *http.Request) { r.Host = "evil.example:" + u.Port() })
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host header: %d, want 421", res.StatusCode)
	}
	// The token opens the page, sets a cookie and leaves the address bar.
	res = get("/?token="+token, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("token visit: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		cookie = c
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Value != token {
		t.Fatalf("cookie %+v", cookie)
	}
	withCookie := func(r *http.Request) { r.AddCookie(cookie) }
	res = get("/api/items", withCookie)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("with the cookie: %d", res.StatusCode)
	}
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"} {
		if res.Header.Get(h) != "" {
			t.Errorf("%s is set: CORS must stay off", h)
		}
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("the page can be framed")
	}
	// Changes: only JSON, only from the page's own origin.
	post := func(ctype, origin string) int {
		req, _ := http.NewRequest("POST", base+"/api/clear", strings.NewReader("{}"))
		req.AddCookie(cookie)
		req.Header.Set("Content-Type", ctype)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post("text/plain", ""); code != http.StatusUnsupportedMediaType {
		t.Errorf("form-like POST: %d, want 415", code)
	}
	if code := post("application/json", "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d, want 403", code)
	}
	if code := post("application/json", base); code != http.StatusOK {
		t.Errorf("same-origin POST: %d, want 200", code)
	}
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:4040", "example.com:80", "nonsense"} {
		if in, err := New(Options{Target: "127.0.0.1:1", Listen: addr}); err == nil {
			in.Close()
			t.Errorf("listened on %s: only loopback is allowed", addr)
		}
	}
}

func TestReplayWithEdits(t *testing.T) {
	svc := httptest.NewServer(echoHTTP())
	defer svc.Close()
	in := newInspector(t, svc.Listener.Addr().String(), Options{})
	public := startTunnel(t, svc.Listener.Addr().String(), in)
	res, err := http.Post("http://"+public+"/hook?a=1", "application/json", strings.NewReader(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var id uint64
	waitFor(t, "the exchange", 10*time.Second, func() bool {
		s := find(in, func(s summary) bool { return s.State == stateDone })
		if len(s) == 1 {
			id = s[0].ID
		}
		return id != 0
	})
	d, _ := in.store.get(id)
	in.store.mu.Lock()
	it := in.store.byID[id]
	in.store.mu.Unlock()
	v, err := in.replay(t.Context(), it, replayRequest{
		Method: "PUT", Target: "/hook?a=2", Headers: d.Editable.Headers + "X-Test: edited\n", Body: `{"n":2}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	json.Unmarshal([]byte(v.Body.Text), &got)
	if v.Status != 200 || got["method"] != "PUT" || got["path"] != "/hook?a=2" || got["body"] != `{"n":2}` || got["x_test"] != "edited" {
		t.Errorf("replay reached the service as %v (status %d)", got, v.Status)
	}
	d, _ = in.store.get(id)
	if len(d.Replays) != 1 || d.Replays[0].Status != 200 {
		t.Errorf("the replay is not kept with its request: %+v", d.Replays)
	}
	if _, err := in.replay(t.Context(), it, replayRequest{Method: "GET", Target: "http://elsewhere/"}); err == nil {
		t.Error("a replay to another host was accepted")
	}
	// A service that has gone away: a clear error, kept with the request.
	svc.Close()
	v, err = in.replay(t.Context(), it, replayRequest{Method: "GET", Target: "/"})
	if err != nil || !strings.Contains(v.Err, "could not reach the local service") {
		t.Errorf("replay to a stopped service: %+v, %v", v.Err, err)
	}
}
