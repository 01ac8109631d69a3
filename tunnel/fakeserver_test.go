package tunnel

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// fakeBore is a scripted bore server: handle plays the server side of the
// n-th connection (from 1). It stops, closing every connection, when the
// test ends.
type fakeBore struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startFakeBore(t *testing.T, handle func(n int, c net.Conn, fr *frameReader)) *fakeBore {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBore{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				handle(n, c, newFrameReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeBore) port() uint16 { return uint16(f.ln.Addr().(*net.TCPAddr).Port) }

// logBuffer collects a tunnel's logs for the test to search.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startLineEcho runs a local service that answers each line with
// "ECHO: " + line, like the capture's echo service.
func startLineEcho(t *testing.T) uint16 {
	t.Helper()
	return startFakeBore(t, func(_ int, c net.Conn, _ *frameReader) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := io.WriteString(c, "ECHO: "+line); err != nil {
				return
			}
		}
	}).port()
}

// runAgainst runs a NoReconnect tunnel asking for port 20080 against a
// server on port, and returns it, its logs and Run's result.
func runAgainst(t *testing.T, port uint16, secret string) (*Tunnel, *logBuffer, <-chan error) {
	t.Helper()
	logs := &logBuffer{}
	tun, res := runTunnel(t, ClientConfig{
		Server:      "127.0.0.1",
		ControlPort: port,
		LocalHost:   "127.0.0.1",
		LocalPort:   startLineEcho(t),
		RemotePort:  20080,
		Secret:      secret,
		NoReconnect: true,
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		WarmConns:   -1, // the scripts play every connection
	})
	return tun, logs, res
}

// runResult waits for Run to return.
func runResult(t *testing.T, res <-chan error) error {
	t.Helper()
	select {
	case err := <-res:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// expectHello reads the client's first frame, which must be Hello(20080).
func expectHello(t *testing.T, fr *frameReader) bool {
	f, err := fr.next()
	if err != nil || string(f) != `{"Hello":20080}` {
		t.Errorf("client sent %q, %v; want {\"Hello\":20080}", f, err)
		return false
	}
	return true
}

func send(c net.Conn, msgs ...ServerMessage) {
	var b []byte
	for _, m := range msgs {
		b = append(b, encodeFrame(m)...)
	}
	c.Write(b)
}

// TestClientSession is the capture's "session" case: a mid-session Error
// is logged and the tunnel keeps running, an unexpected Challenge or
// Hello is ignored, a Connection is accepted (Accept frame, then data both
// ways), and an unknown variant ends the tunnel with "unable to parse
// message".
func TestClientSession(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	accepted := make(chan struct{})
	fake := startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
		defer c.Close()
		switch n {
		case 1:
			if !expectHello(t, fr) {
				return
			}
			send(c, ServerMessage{Kind: ServerHello, Port: 20080}, ServerMessage{Kind: ServerHeartbeat})
			send(c, ServerMessage{Kind: ServerErr, Text: "mid-session error"})
			send(c, ServerMessage{Kind: ServerChallenge, ID: uuid.New()})
			send(c, ServerMessage{Kind: ServerHello, Port: 20099})
			send(c, ServerMessage{Kind: ServerConnection, ID: id}, ServerMessage{Kind: ServerHeartbeat})
			select {
			case <-accepted:
			case <-time.After(15 * time.Second):
				t.Error("no accept connection")
			}
			c.Write([]byte(`{"Bogus":1}` + "\x00"))
			io.Copy(io.Discard, c) // until the client hangs up
		case 2:
			defer close(accepted)
			f, err := fr.next()
			if want := `{"Accept":"` + id.String() + `"}`; err != nil || string(f) != want {
				t.Errorf("accept connection sent %q, %v; want %s", f, err, want)
				return
			}
			if len(fr.buffered()) != 0 {
				t.Errorf("bytes after the Accept frame: %q", fr.buffered())
			}
			io.WriteString(c, "DATA FROM VISITOR\n")
			want := "ECHO: DATA FROM VISITOR\n"
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
				t.Errorf("accept connection got %q, %v; want %q", got, err, want)
			}
		default:
			t.Errorf("unexpected connection %d", n)
		}
	})
	tun, logs, res := runAgainst(t, fake.port(), "")
	err := runResult(t, res)
	if err == nil || !strings.Contains(err.Error(), "unable to parse message") || !errors.Is(err, ErrParse) {
		t.Errorf("Run = %v, want unable to parse message", err)
	}
	if st := tun.Status(); st.RemotePort != 20080 || st.State != StateFailed {
		t.Errorf("status %+v, want failed with remote port 20080", st)
	}
	out := logs.String()
	for _, want := range []string{"mid-session error", "unexpected challenge", "unexpected hello", "listening at 127.0.0.1:20080"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
}

// TestClientOtherPort: the client takes the port the server gives, even
// when it asked for another; the server closing ends a NoReconnect tunnel
// without a failure (bore exits 0).
func TestClientOtherPort(t *testing.T) {
	t.Parallel()
	opened := make(chan struct{})
	fake := startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
		defer c.Close()
		if !expectHello(t, fr) {
			return
		}
		send(c, ServerMessage{Kind: ServerHello, Port: 20081}, ServerMessage{Kind: ServerHeartbeat})
		<-opened
	})
	tun, _, res := runAgainst(t, fake.port(), "")
	deadline := time.Now().Add(10 * time.Second)
	for st := tun.Status(); st.State != StateOpen || st.RemotePort != 20081; st = tun.Status() {
		if time.Now().After(deadline) {
			t.Fatalf("status %+v, want open on port 20081", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(opened)
	if err := runResult(t, res); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Run = %v, want ErrServerClosed", err)
	}
	if st := tun.Status(); st.State != StateStopped {
		t.Errorf("state %v after the server closed, want stopped", st.State)
	}
}

// TestClientBadFirstReply covers the capture's cases where the server's
// first reply is not a Hello.
func TestClientBadFirstReply(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		reply func(c net.Conn)
		check func(err error) bool
		want  string
	}{
		{"heartbeat-first", func(c net.Conn) { send(c, ServerMessage{Kind: ServerHeartbeat}) },
			nil, "unexpected initial non-hello message"},
		{"connection-first", func(c net.Conn) { send(c, ServerMessage{Kind: ServerConnection, ID: uuid.New()}) },
			nil, "unexpected initial non-hello message"},
		{"oversize", func(c net.Conn) { c.Write(bytes.Repeat([]byte("x"), 300)) },
			func(err error) bool { return errors.Is(err, ErrFrameTooLong) }, "frame error, invalid byte length"},
		{"close", nil, nil, "unexpected EOF"},
		{"garbage", func(c net.Conn) { c.Write([]byte("hello\x00")) },
			func(err error) bool { return errors.Is(err, ErrParse) }, "unable to parse message"},
		{"error", func(c net.Conn) { send(c, ServerMessage{Kind: ServerErr, Text: "port already in use"}) },
			func(err error) bool {
				var se *ServerError
				return errors.As(err, &se) && se.Text == "port already in use"
			}, "server error: port already in use"},
		{"challenge", func(c net.Conn) { send(c, ServerMessage{Kind: ServerChallenge, ID: uuid.New()}) },
			func(err error) bool { return errors.Is(err, ErrAuthRequired) }, "server requires authentication, but no client secret was provided"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
				defer c.Close()
				if !expectHello(t, fr) || tc.reply == nil {
					return
				}
				tc.reply(c)
				io.Copy(io.Discard, c) // until the client hangs up
			})
			_, _, res := runAgainst(t, fake.port(), "")
			err := runResult(t, res)
			if err == nil || err.Error() != tc.want && !strings.HasPrefix(err.Error(), tc.want+":") {
				t.Errorf("Run = %v, want %q", err, tc.want)
			}
			if tc.check != nil && !tc.check(err) {
				t.Errorf("Run = %#v: wrong error type", err)
			}
		})
	}
}

// TestClientSilentServer: a server that never answers the Hello fails the
// tunnel after NetworkTimeout (3 s of real time).
func TestClientSilentServer(t *testing.T) {
	t.Parallel()
	fake := startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
		defer c.Close()
		expectHello(t, fr)
		io.Copy(io.Discard, c)
	})
	_, _, res := runAgainst(t, fake.port(), "")
	if err := runResult(t, res); err == nil || err.Error() != "timed out waiting for initial message" {
		t.Errorf("Run = %v, want timed out waiting for initial message", err)
	}
}

// TestClientSecretMismatch runs our client against our server with the
// secret on one side only (captures c2 and c3).
func TestClientSecretMismatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		server, client string
		want           []error
	}{
		{"c2-client-without-secret", "bore-test-secret", "", []error{ErrAuthRequired}},
		{"c3-client-secret-server-without", "", "bore-test-secret", []error{ErrNoAuthExpected, errors.New(errTextTimeout)}},
		{"c-wrong-secret", "bore-test-secret", "wrong-secret", []error{&ServerError{Text: errTextInvalidSecret}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, ServerConfig{Secret: tc.server}, func(s *Server) { s.handshakeTimeout = 200 * time.Millisecond })
			_, _, res := runAgainst(t, srv.port, tc.client)
			err := runResult(t, res)
			ok := false
			for _, w := range tc.want {
				ok = ok || errors.Is(err, w) || (err != nil && err.Error() == w.Error())
			}
			if !ok {
				t.Errorf("Run = %v, want one of %v", err, tc.want)
			}
			if st := srv.Stats(); st.Tunnels != 0 {
				t.Errorf("server opened %d tunnels", st.Tunnels)
			}
		})
	}
}
