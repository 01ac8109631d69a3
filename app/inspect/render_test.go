package inspect

import (
	"bytes"
	"compress/gzip"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRenderBody(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"zipped":true}`))
	zw.Close()
	cases := []struct {
		name    string
		body    []byte
		size    int64
		header  http.Header
		kind    string
		contain string
	}{
		{"empty", nil, 0, http.Header{}, "empty", ""},
		{"json", []byte(`{"a":[1,2]}`), 11, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, "json", "\"a\": [\n    1,"},
		{"json without type", []byte(`[true]`), 6, http.Header{}, "json", "[\n  true\n]"},
		{"truncated json is text", []byte(`{"a":`), 100, http.Header{"Content-Type": {"application/json"}}, "text", `{"a":`},
		{"form", []byte("a=1&b=two+words&c=%26"), 21, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "form", ""},
		{"text", []byte("héllo\nworld"), 12, http.Header{"Content-Type": {"text/plain"}}, "text", "héllo"},
		{"binary", []byte{0, 1, 2, 0xff, 'A'}, 5, http.Header{}, "binary", "00 01 02 ff 41"},
		{"gzip", gz.Bytes(), int64(gz.Len()), http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/json"}}, "json", `"zipped": true`},
		{"text cut inside a rune", []byte("ab\xc3"), 10, http.Header{}, "text", "ab"},
	}
	for _, tc := range cases {
		v := renderBody(tc.body, tc.size, true, tc.header)
		if v.Kind != tc.kind || !strings.Contains(v.Text, tc.contain) {
			t.Errorf("%s: %s %q, want %s containing %q", tc.name, v.Kind, v.Text, tc.kind, tc.contain)
		}
		if v.Truncated != (int64(len(tc.body)) < tc.size) {
			t.Errorf("%s: truncated %v", tc.name, v.Truncated)
		}
	}
	v := renderBody([]byte("a=1&b=two+words&c=%26"), 21, true, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if len(v.Form) != 3 || v.Form[1] != [2]string{"b", "two words"} || v.Form[2] != [2]string{"c", "&"} {
		t.Errorf("form fields %v", v.Form)
	}
	if got := printable([]byte("GET / HTTP/1.1\r\nX: \x01\xff\r\n")); got != "GET / HTTP/1.1\nX: \\x01\\xff\n" {
		t.Errorf("printable: %q", got)
	}
}

func TestSwitch(t *testing.T) {
	addr := rawService(t, echo)
	var sw Switch
	public := startTunnel(t, addr, &sw)
	roundTrip := func() {
		t.Helper()
		c, err := net.Dial("tcp", public)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("GET /x HTTP/1.1\r\n\r\n"))
		b := make([]byte, 19)
		if _, err := c.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip() // off: not wrapped
	in := newInspector(t, addr, Options{})
	if old := sw.Set(in); old != nil || sw.Inspector() != in {
		t.Fatal("Set did not take")
	}
	// Open, then watch its byte counts move while it stays open.
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("\x00binary"))
	waitFor(t, "the open connection's line", 10*time.Second, func() bool {
		s := find(in, func(s summary) bool { return s.Kind == kindConn && s.State == stateOpen })
		return len(s) == 1 && s[0].ReqSize == 7
	})
	c.Write([]byte("more"))
	waitFor(t, "its bytes to move while open", 10*time.Second, func() bool {
		s := find(in, func(s summary) bool { return s.Kind == kindConn && s.State == stateOpen })
		return len(s) == 1 && s[0].ReqSize == 11
	})
	sw.Set(nil)
	roundTrip()
	if n := len(find(in, func(s summary) bool { return s.Kind == kindHTTP })); n != 0 {
		t.Errorf("%d exchanges seen while the switch was off", n)
	}
}
