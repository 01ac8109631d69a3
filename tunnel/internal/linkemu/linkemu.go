//go:build linux

// Package linkemu is a userspace network link emulator for benchmarks: two
// network namespaces, a TUN device in each, and packets moved between them
// in order with a configurable one-way delay and rate. It stands in for a
// netem qdisc on kernels without one, and gives a faithful round-trip time
// for everything, TCP handshakes included.
//
// Each direction is a reader goroutine blocked on its TUN device and a
// delivery goroutine that sleeps until each packet is due: no busy loop.
// Packets beyond the queue (Config.Queue of delay at the link's rate) are
// dropped at the tail, as a router does. Addresses are TEST-NET-1
// (192.0.2.0/24), inside the namespaces only. It needs root (namespaces,
// TUN) and the ip command.
package linkemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Addresses of the two ends, inside their namespaces.
const (
	AddrA = "192.0.2.1"
	AddrB = "192.0.2.2"
)

// Config is a link's shape, the same in both directions.
type Config struct {
	// Delay is the one-way delay; the round trip is twice it.
	Delay time.Duration
	// Rate caps each direction in bits per second; 0 means no cap.
	Rate int64
	// Queue is the most waiting to leave at Rate, as time; zero means
	// 50 ms.
	Queue time.Duration
}

// Link is two namespaces joined by an emulated link. Its ends are named
// A (AddrA) and B (AddrB).
type Link struct {
	// NameA and NameB are the namespaces' names under /run/netns, for
	// "ip netns exec".
	NameA, NameB string

	mu     sync.Mutex
	cfg    Config
	tuns   [2]*os.File
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New creates the namespaces (named prefix-a and prefix-b), a TUN device in
// each with its address, and starts moving packets with cfg.
func New(prefix string, cfg Config) (*Link, error) {
	l := &Link{NameA: prefix + "-a", NameB: prefix + "-b", cfg: cfg}
	for i, ns := range []string{l.NameA, l.NameB} {
		addr := []string{AddrA, AddrB}[i]
		if err := ip("netns", "add", ns); err != nil {
			l.Close()
			return nil, err
		}
		tun, err := openTUNIn("/run/netns/"+ns, "emu0")
		if err != nil {
			l.Close()
			return nil, err
		}
		l.tuns[i] = tun
		for _, args := range [][]string{
			{"-n", ns, "link", "set", "lo", "up"},
			{"-n", ns, "addr", "add", addr + "/24", "dev", "emu0"},
			{"-n", ns, "link", "set", "emu0", "up"},
		} {
			if err := ip(args...); err != nil {
				l.Close()
				return nil, err
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for i := range 2 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.forward(ctx, l.tuns[i], l.tuns[1-i])
		}()
	}
	return l, nil
}

// Set changes the link's shape for packets read from now on.
func (l *Link) Set(cfg Config) {
	l.mu.Lock()
	l.cfg = cfg
	l.mu.Unlock()
}

// Close stops the link and removes both namespaces.
func (l *Link) Close() error {
	if l.cancel != nil {
		l.cancel()
	}
	for _, t := range l.tuns {
		if t != nil {
			t.Close() // ends the blocked reads
		}
	}
	l.wg.Wait()
	var errs []error
	for _, ns := range []string{l.NameA, l.NameB} {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			errs = append(errs, ip("netns", "del", ns))
		}
	}
	return errors.Join(errs...)
}

// Exec returns the arguments that run argv inside namespace ns.
func Exec(ns string, argv ...string) []string {
	return append([]string{"ip", "netns", "exec", ns}, argv...)
}

// packet is one IP packet on its way.
type packet struct {
	buf []byte
	due time.Time
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 65536); return &b }}

// forward moves packets from src to dst until ctx ends or src is closed.
func (l *Link) forward(ctx context.Context, src, dst *os.File) {
	queue := make(chan packet, 16384)
	done := make(chan struct{})
	go func() {
		defer close(done)
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for p := range queue {
			if d := time.Until(p.due); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return
				}
			}
			dst.Write(p.buf)
			b := p.buf[:cap(p.buf)]
			bufs.Put(&b)
		}
	}()
	defer func() {
		close(queue)
		<-done
	}()
	var free time.Time // when the link has sent what is queued
	for {
		bp := bufs.Get().(*[]byte)
		n, err := src.Read(*bp)
		if err != nil {
			return
		}
		now := time.Now()
		l.mu.Lock()
		cfg := l.cfg
		l.mu.Unlock()
		leave := now
		if cfg.Rate > 0 {
			queueLimit := cfg.Queue
			if queueLimit == 0 {
				queueLimit = 50 * time.Millisecond
			}
			if free.Sub(now) > queueLimit {
				bufs.Put(bp) // tail drop
				continue
			}
			leave = later(now, free).Add(time.Duration(int64(n) * 8 * int64(time.Second) / cfg.Rate))
			free = leave
		}
		select {
		case queue <- packet{buf: (*bp)[:n], due: leave.Add(cfg.Delay)}:
		default:
			bufs.Put(bp)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// openTUNIn opens a TUN device named name inside the network namespace
// at nsPath. The device lives as long as the returned file is open.
func openTUNIn(nsPath, name string) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// This thread changes namespace and is never unlocked: Go ends
		// it with the goroutine instead of reusing it.
		runtime.LockOSThread()
		f, err := func() (*os.File, error) {
			ns, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return nil, fmt.Errorf("open namespace %s: %w", nsPath, err)
			}
			defer unix.Close(ns)
			if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
				return nil, fmt.Errorf("enter namespace %s: %w", nsPath, err)
			}
			return openTUN(name)
		}()
		ch <- result{f, err}
	}()
	r := <-ch
	return r.f, r.err
}

func openTUN(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("create TUN device %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), nil
}

// InNamespace runs f on a thread inside the namespace named ns, so that
// sockets f creates (a dial, a listen) live there; they work from any
// goroutine afterwards. The thread is retired when f returns.
func InNamespace(ns string, f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			ch <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		ch <- f()
	}()
	return <-ch
}

// Dialer dials TCP from inside a namespace with a few long-lived threads
// there, so a dial costs a channel hand-off and not a new thread, and
// several dials can be under way at once.
type Dialer struct {
	reqs chan dialReq
}

type dialReq struct {
	ctx  context.Context
	addr string
	res  chan dialRes
}

type dialRes struct {
	c   net.Conn
	err error
}

// NewDialer starts a dialer with workers threads inside namespace ns.
// Close ends it.
func NewDialer(ns string, workers int) (*Dialer, error) {
	d := &Dialer{reqs: make(chan dialReq)}
	for range workers {
		ready := make(chan error, 1)
		go func() {
			runtime.LockOSThread()
			fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				err = unix.Setns(fd, unix.CLONE_NEWNET)
				unix.Close(fd)
			}
			ready <- err
			if err != nil {
				return
			}
			var nd net.Dialer
			for r := range d.reqs {
				c, err := nd.DialContext(r.ctx, "tcp", r.addr)
				r.res <- dialRes{c, err}
			}
		}()
		if err := <-ready; err != nil {
			d.Close()
			return nil, fmt.Errorf("enter namespace %s: %w", ns, err)
		}
	}
	return d, nil
}

// DialContext connects to addr from inside the dialer's namespace.
func (d *Dialer) DialContext(ctx context.Context, addr string) (net.Conn, error) {
	r := dialReq{ctx: ctx, addr: addr, res: make(chan dialRes, 1)}
	select {
	case d.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res := <-r.res
	return res.c, res.err
}

// Close ends the dialer's threads.
func (d *Dialer) Close() { close(d.reqs) }

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
