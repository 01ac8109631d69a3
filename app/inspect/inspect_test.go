package inspect

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// echoHTTP answers with what it received, as JSON.
func echoHTTP() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.RequestURI(), "body": string(body),
			"x_test": r.Header.Get("X-Test"),
		})
	})
	return mux
}

func TestHTTPExchangesThroughATunnel(t *testing.T) {
	svc := httptest.NewServer(echoHTTP())
	defer svc.Close()
	in := newInspector(t, svc.Listener.Addr().String(), Options{})
	public := startTunnel(t, svc.Listener.Addr().String(), in)
	tr := &http.Transport{ExpectContinueTimeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := "http://" + public

	do := func(req *http.Request) string {
		t.Helper()
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	req, _ := http.NewRequest("GET", base+"/hello?x=1&y=two", nil)
	do(req)
	req, _ = http.NewRequest("POST", base+"/hook", strings.NewReader(`{"event":"push","n":1}`))
	req.Header.Set("Content-Type", "application/json")
	do(req)
	// Chunked: a body of unknown length.
	pr, pw := io.Pipe()
	go func() { pw.Write([]byte("part one, ")); pw.Write([]byte("part two")); pw.Close() }()
	req, _ = http.NewRequest("PUT", base+"/chunked", pr)
	if got := do(req); !strings.Contains(got, "part one, part two") {
		t.Errorf("chunked body through the tunnel: %s", got)
	}
	req, _ = http.NewRequest("POST", base+"/expect", strings.NewReader("a=1&b=x+y"))
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	do(req)
	req, _ = http.NewRequest("HEAD", base+"/head", nil)
	do(req)
	req, _ = http.NewRequest("GET", base+"/missing", nil)
	do(req)

	waitFor(t, "six exchanges", 10*time.Second, func() bool {
		return len(find(in, func(s summary) bool { return s.Kind == kindHTTP && s.State == stateDone })) == 6
	})
	want := []struct {
		method, path string
		status       int
	}{{"GET", "/missing", 404}, {"HEAD", "/head", 200}, {"POST", "/expect", 200}, {"PUT", "/chunked", 200}, {"POST", "/hook", 200}, {"GET", "/hello?x=1&y=two", 200}}
	got := find(in, func(s summary) bool { return s.Kind == kindHTTP })
	for i, w := range want {
		if got[i].Method != w.method || got[i].Path != w.path || got[i].Status != w.status {
			t.Errorf("item %d: %s %s %d, want %s %s %d", i, got[i].Method, got[i].Path, got[i].Status, w.method, w.path, w.status)
		}
	}
	d, _ := in.store.get(got[4].ID)
	if d.Req.Body.Kind != "json" || !strings.Contains(d.Req.Body.Text, "\"event\": \"push\"") {
		t.Errorf("JSON body shown as %s %q", d.Req.Body.Kind, d.Req.Body.Text)
	}
	if !strings.HasPrefix(d.Req.Raw, "POST /hook HTTP/1.1\n") {
		t.Errorf("raw request starts %q", d.Req.Raw[:min(40, len(d.Req.Raw))])
	}
	d, _ = in.store.get(got[3].ID)
	if d.Req.Body.Text != "part one, part two" || !strings.Contains(d.Req.Raw, "Transfer-Encoding: chunked") {
		t.Errorf("chunked body %q, raw %q", d.Req.Body.Text, d.Req.Raw)
	}
	d, _ = in.store.get(got[2].ID)
	if len(d.Info) != 1 || d.Info[0] != 100 || d.Req.Body.Kind != "form" || d.Req.Body.Form[1] != [2]string{"b", "x y"} {
		t.Errorf("100-continue exchange: info %v, body %+v", d.Info, d.Req.Body)
	}
	d, _ = in.store.get(got[5].ID)
	if len(d.Query) != 2 || d.Query[1] != [2]string{"y", "two"} {
		t.Errorf("query %v", d.Query)
	}
	// One keep-alive connection carried them all: no connection lines.
	if conns := find(in, func(s summary) bool { return s.Kind == kindConn }); len(conns) != 0 {
		t.Errorf("HTTP traffic shown as connections: %+v", conns)
	}
}

func TestPipelinedRequests(t *testing.T) {
	svc := httptest.NewServer(echoHTTP())
	defer svc.Close()
	in := newInspector(t, svc.Listener.Addr().String(), Options{})
	public := startTunnel(t, svc.Listener.Addr().String(), in)
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var reqs bytes.Buffer
	for i := range 3 {
		fmt.Fprintf(&reqs, "GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
	}
	c.Write(reqs.Bytes())
	br := bufio.NewReader(c)
	for i := range 3 {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		if !strings.Contains(string(b), fmt.Sprintf("/p%d", i)) {
			t.Fatalf("response %d: %s", i, b)
		}
	}
	waitFor(t, "three exchanges", 10*time.Second, func() bool {
		return len(find(in, func(s summary) bool { return s.State == stateDone })) == 3
	})
	for i, s := range find(in, func(s summary) bool { return true }) {
		if want := fmt.Sprintf("/p%d", 2-i); s.Path != want || s.Status != 200 {
			t.Errorf("item %d: %s %d, want %s 200", i, s.Path, s.Status, want)
		}
	}
}

// rawService runs fn for each connection to a loopback listener.
func rawService(t testing.TB, fn func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); fn(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func echo(c net.Conn) { io.Copy(c, c) }

func TestWebSocketUpgrade(t *testing.T) {
	addr := rawService(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.Header.Get("Upgrade") != "websocket" {
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		io.Copy(c, br)
	})
	in := newInspector(t, addr, Options{})
	public := startTunnel(t, addr, in)
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	// Frames that happen to look like HTTP must not be parsed as such.
	frame := []byte("GET /not-a-request HTTP/1.1\r\n\r\n\x81\x05hello")
	c.Write(frame)
	got := make([]byte, len(frame))
	if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, frame) {
		t.Fatalf("echo after upgrade: %q %v", got, err)
	}
	c.Close()
	waitFor(t, "the upgrade and its connection", 10*time.Second, func() bool {
		ws := find(in, func(s summary) bool { return s.Kind == kindConn && s.Proto == "WebSocket" && s.State == stateClosed })
		return len(ws) == 1 && ws[0].ReqSize > int64(len(frame)) && ws[0].RespSize > int64(len(frame))
	})
	up := find(in, func(s summary) bool { return s.Kind == kindHTTP })
	if len(up) != 1 || up[0].Status != 101 || up[0].Upgrade != "WebSocket" || up[0].Path != "/ws" {
		t.Fatalf("upgrade shown as %+v", up)
	}
}

func TestOtherProtocolsAreConnections(t *testing.T) {
	addr := rawService(t, echo)
	banner := rawService(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n"); io.Copy(io.Discard, c) })
	in := newInspector(t, addr, Options{})
	public := startTunnel(t, addr, in)
	inB := newInspector(t, banner, Options{})
	publicB := startTunnel(t, banner, inB)

	send := func(addr string, b []byte) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(b)
		got := make([]byte, len(b))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("echo of %q: %q %v", b[:8], got, err)
		}
	}
	send(public, []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfcclient hello..."))
	send(public, []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04"))
	send(public, []byte("hello, not http\n\x00\x01"))
	send(public, []byte("\x00\x01binary"))
	c, err := net.Dial("tcp", publicB)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if err != nil || !strings.HasPrefix(line, "SSH-2.0") {
		t.Fatalf("banner: %q %v", line, err)
	}
	waitFor(t, "four connections", 10*time.Second, func() bool {
		return len(find(in, func(s summary) bool { return s.Kind == kindConn && s.State == stateClosed })) == 4
	})
	got := find(in, func(summary) bool { return true })
	protos := []string{}
	for _, s := range got {
		protos = append(protos, s.Proto)
		if s.Kind != kindConn || s.ReqSize == 0 || s.ReqSize != s.RespSize {
			t.Errorf("%+v: want a connection with bytes each way", s)
		}
	}
	if strings.Join(protos, ",") != "TCP,TCP,HTTP/2.0,TLS" {
		t.Errorf("protocols %v", protos)
	}
	waitFor(t, "the banner connection", 10*time.Second, func() bool {
		s := find(inB, func(summary) bool { return true })
		return len(s) == 1 && s[0].Kind == kindConn && s[0].RespSize > 0 && s[0].State == stateClosed
	})
}

// TestGarbagePassesUnchanged sends random bytes, some shaped like HTTP,
// through an inspected tunnel and compares what comes back.
func TestGarbagePassesUnchanged(t *testing.T) {
	addr := rawService(t, echo)
	in := newInspector(t, addr, Options{})
	public := startTunnel(t, addr, in)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, prefix := range []string{"", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"} {
		c, err := net.Dial("tcp", public)
		if err != nil {
			t.Fatal(err)
		}
		payload := make([]byte, 4<<20)
		for i := range payload {
			payload[i] = byte(rng.Uint32())
		}
		payload = append([]byte(prefix), payload...)
		go func() { c.Write(payload); c.(*net.TCPConn).CloseWrite() }()
		h := sha256.New()
		n, err := io.Copy(h, c)
		c.Close()
		if err != nil || n != int64(len(payload)) || !bytes.Equal(h.Sum(nil), sha256Of(payload)) {
			t.Fatalf("prefix %q: got %d bytes back (want %d), err %v, same hash %v", prefix, n, len(payload), err, bytes.Equal(h.Sum(nil), sha256Of(payload)))
		}
	}
}

func sha256Of(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestCloseLeavesTrafficFlowing closes the Inspector in the middle of a
// stream: the stream goes on, uninspected, and nothing leaks.
func TestCloseLeavesTrafficFlowing(t *testing.T) {
	addr := rawService(t, echo)
	in, err := New(Options{Target: addr})
	if err != nil {
		t.Fatal(err)
	}
	public := startTunnel(t, addr, in)
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	msg := []byte("POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
	c.Write(msg)
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(c, back); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the exchange", 10*time.Second, func() bool { return len(find(in, func(s summary) bool { return s.Path == "/s" })) == 1 })
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if res, err := http.Get(in.URL()); err == nil {
		res.Body.Close()
		t.Error("the page still answers after Close")
	}
	chunk := bytes.Repeat([]byte("z"), 100_000)
	for range 10 {
		c.Write(chunk)
		if _, err := io.ReadFull(c, make([]byte, len(chunk))); err != nil {
			t.Fatalf("after Close: %v", err)
		}
	}
	if in.Close() != nil {
		t.Error("a second Close failed")
	}
}
