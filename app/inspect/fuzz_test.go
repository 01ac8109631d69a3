package inspect

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// memConn is a local connection held in memory: writes are kept, reads
// return a fixed answer, then EOF.
type memConn struct {
	net.Conn // nil: only the methods below are used
	answer   *bytes.Reader
	got      bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error)  { return c.answer.Read(p) }
func (c *memConn) Write(p []byte) (int, error) { return c.got.Write(p) }
func (c *memConn) Close() error                { return nil }

// FuzzParsers feeds arbitrary bytes each way through a wrapped
// connection: the bytes must pass unchanged, the parsers must not panic,
// and they must end when the connection does.
func FuzzParsers(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	f.Add([]byte("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
		[]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
	f.Add([]byte("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00"), []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00"))
	f.Add([]byte("HEAD / HTTP/1.0\r\n\r\n"), []byte("HTTP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nContent-Length: 100000\r\n\r\nabc"), []byte("HTTP/1.1 200 OK\r\n\r\nuntil the end"))
	f.Add([]byte("\x16\x03\x01"), []byte{})
	f.Add([]byte("CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03"), []byte("HTTP/1.1 200 OK\r\n\r\n\x16\x03"))
	in, err := New(Options{Target: "127.0.0.1:1", BodyCap: 16, RawCap: 32, MaxItems: 8})
	if err != nil {
		f.Fatal(err)
	}
	defer in.Close()
	f.Fuzz(func(t *testing.T, req, resp []byte) {
		mc := &memConn{answer: bytes.NewReader(resp)}
		c := in.Wrap(mc)
		// Requests in pieces, as a tunnel would write them.
		for rest := req; len(rest) > 0; {
			k := min(len(rest), 7)
			if n, err := c.Write(rest[:k]); n != k || err != nil {
				t.Fatalf("write: %d, %v", n, err)
			}
			rest = rest[k:]
		}
		c.(interface{ CloseWrite() error }).CloseWrite()
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, resp) || !bytes.Equal(mc.got.Bytes(), req) {
			t.Fatalf("bytes changed: %v", err)
		}
		c.Close()
		deadline := time.Now().Add(10 * time.Second)
		for in.Stats().Parsing > 0 {
			if time.Now().After(deadline) {
				t.Fatal("the parsers did not end with the connection")
			}
			time.Sleep(time.Millisecond)
		}
		in.store.list()
		for _, s := range in.store.list() {
			in.store.get(s.ID)
		}
	})
}
