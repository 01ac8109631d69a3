//go:build linux

package linkemu

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// needRoot skips without root and the ip command, except in CI.
func needRoot(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("ip")
	if os.Geteuid() == 0 && err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the link emulator needs root and the ip command (apt-get install iproute2)")
	}
	t.Skip("the link emulator needs root and the ip command (apt-get install iproute2)")
}

// TestLink: a TCP connection across the link works both ways, and its
// handshake takes at least the round trip the link adds (the emulator
// cannot deliver early; this bounds correctness, not speed).
func TestLink(t *testing.T) {
	needRoot(t)
	const delay = 15 * time.Millisecond
	l, err := New(fmt.Sprintf("linkemu-test-%d", os.Getpid()), Config{Delay: delay, Rate: 50_000_000})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ln net.Listener
	if err := InNamespace(l.NameB, func() (err error) {
		ln, err = net.Listen("tcp", AddrB+":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	d, err := NewDialer(l.NameA, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	c, err := d.DialContext(ctx, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if took := time.Since(t0); took < 2*delay {
		t.Errorf("connect took %v across a link of %v each way", took, delay)
	}
	msg := make([]byte, 200_000)
	go c.Write(msg)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
		t.Fatalf("echo across the link: %v", err)
	}
}
