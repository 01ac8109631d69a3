package tunnel

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// readEOF reads c until it returns an error and fails unless that is EOF.
func readEOF(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("read: %v, want EOF", err)
	}
}

func TestResetEndCleanFIN(t *testing.T) {
	c, peer := tcpPair(t)
	peer.Close()
	readEOF(t, c)
	if resetEnd(c, false) {
		t.Error("a peer that closed with a FIN was taken for a reset")
	}
}

func TestResetEndAfterOwnFIN(t *testing.T) {
	c, peer := tcpPair(t)
	c.CloseWrite()
	readEOF(t, peer)
	peer.Close()
	readEOF(t, c)
	if resetEnd(c, true) {
		t.Error("a clean end after our own FIN (TIME_WAIT) was taken for a reset")
	}
}

// TestResetEndConsumedByWrite: the peer resets; a write takes the reset,
// and the read after it returns 0 as if the peer had sent a FIN. resetEnd
// must see the reset.
func TestResetEndConsumedByWrite(t *testing.T) {
	c, peer := tcpPair(t)
	peer.SetLinger(0)
	peer.Close()
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	var werr error
	for werr == nil {
		_, werr = c.Write([]byte("x"))
	}
	if !errors.Is(werr, syscall.ECONNRESET) && !errors.Is(werr, syscall.EPIPE) {
		t.Fatalf("write after the peer's reset: %v, want a reset or a broken pipe", werr)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("the read after the write got %d, %v; want 0 and EOF, the case resetEnd is for", n, err)
	}
	if !resetEnd(c, false) {
		t.Error("a reset taken by a write was passed on as a clean end")
	}
}

func TestResetEndClosed(t *testing.T) {
	c, _ := tcpPair(t)
	c.Close()
	if !resetEnd(c, false) {
		t.Error("a connection closed under the copy (an abort under way) was not taken for a reset")
	}
}
