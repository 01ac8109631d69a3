//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"regexp"
	"sync"
	"syscall"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

// The service speaks a one-byte protocol so one local port serves every
// measurement through one tunnel. The first byte a connection sends picks
// the mode:
//
//   - modeUpload: the service reads and discards until EOF, then replies
//     with the byte count as a big-endian uint64 and closes.
//   - modeUploadN followed by a big-endian uint64 n: the same for n bytes,
//     without waiting for EOF.
//   - modeDownload followed by a big-endian uint64 n: the service writes
//     n bytes and closes.
//   - any other byte: the service echoes it and everything after it.
const (
	modeUpload = 'U'
	// modeUploadN followed by a big-endian uint64 n: the service reads n
	// bytes, replies with the count and closes. Unlike modeUpload it needs
	// no half-close, which bore 0.5.2 does not pass on.
	modeUploadN  = 'N'
	modeDownload = 'D'
	modeEcho     = 'e'
)

// bulkChunk is the buffer size of bulk reads and writes on both ends.
const bulkChunk = 256 << 10

// echoBuf is the echo loop's buffer: echo traffic is small messages, and
// thousands of echoing connections should not hold much memory.
const echoBuf = 2 << 10

// service is the local TCP service the tunnel exposes: echo, sink and
// source, on a loopback listener.
type service struct {
	ln      net.Listener
	payload []byte // read-only source data

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startService listens on 127.0.0.1:0 and serves until Close.
func startService() (*service, error) {
	addr := "127.0.0.1:0"
	if a := os.Getenv(serviceAddrEnv); a != "" {
		addr = a
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the local service on 127.0.0.1: %w", err)
	}
	s := &service{ln: ln, payload: make([]byte, bulkChunk), conns: make(map[net.Conn]struct{})}
	for i := range s.payload {
		s.payload[i] = byte(i * 7)
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the service's address, host:port.
func (s *service) Addr() string { return s.ln.Addr().String() }

// Port is the service's port.
func (s *service) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the listener, closes every connection and waits for their
// goroutines.
func (s *service) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *service) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

func (s *service) serve(c net.Conn) {
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		return
	}
	switch first[0] {
	case modeUpload:
		buf := make([]byte, bulkChunk)
		var n uint64
		for {
			k, err := c.Read(buf)
			n += uint64(k)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return
			}
		}
		c.Write(binary.BigEndian.AppendUint64(nil, n))
	case modeUploadN:
		var hdr [8]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		want := int64(binary.BigEndian.Uint64(hdr[:]))
		n, _ := io.CopyN(io.Discard, c, want)
		c.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
	case modeDownload:
		var hdr [8]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		writeN(c, s.payload, int64(binary.BigEndian.Uint64(hdr[:])))
	default:
		buf := make([]byte, echoBuf)
		buf[0] = first[0]
		k := 1
		for {
			if _, err := c.Write(buf[:k]); err != nil {
				return
			}
			var err error
			if k, err = c.Read(buf); err != nil {
				return
			}
		}
	}
}

// writeN writes n bytes to w, repeating payload.
func writeN(w io.Writer, payload []byte, n int64) error {
	for n > 0 {
		p := payload
		if int64(len(p)) > n {
			p = p[:n]
		}
		k, err := w.Write(p)
		n -= int64(k)
		if err != nil {
			return err
		}
	}
	return nil
}

// serviceEnv, set to "1" in the environment, makes the program serve the
// local service instead of measuring: the benchmark starts itself that way
// so the service runs in a process of its own, as a real one does.
const serviceEnv = "TUNNELBENCH_SERVICE"

// serviceAddrEnv, when set, is the address the service listens on instead
// of 127.0.0.1:0.
const serviceAddrEnv = "TUNNELBENCH_SERVICE_ADDR"

// serviceReady is the line a service process prints once it listens.
var serviceReady = regexp.MustCompile(`service listening on \S+:(\d+)`)

// serveMain runs the service until stdin closes (the benchmark exited) or
// a signal arrives, and returns the exit code.
func serveMain(stdin io.Reader, stdout io.Writer) int {
	s, err := startService()
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	defer s.Close()
	fmt.Fprintf(stdout, "service listening on %s\n", s.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-sig:
	case <-eof:
	}
	return 0
}

// startServiceProcess starts this program again as the service and
// returns the process and the service's address.
func startServiceProcess(ctx context.Context) (*proctest.Proc, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", fmt.Errorf("find this program to start the service: %w", err)
	}
	p, err := proctest.Start(exe, "local service", []string{serviceEnv + "=1"})
	if err != nil {
		return nil, "", err
	}
	port, err := p.WaitFor(ctx, serviceReady, 0, proctest.StartTimeout)
	if err != nil {
		p.Stop()
		return nil, "", err
	}
	return p, net.JoinHostPort("127.0.0.1", port), nil
}
