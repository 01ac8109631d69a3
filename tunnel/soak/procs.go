package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startTimeout bounds how long a bore process may take to come up.
const startTimeout = 15 * time.Second

var (
	serverReady = regexp.MustCompile(`server listening addr=\S*:(\d+)`)
	clientReady = regexp.MustCompile(`connected to server remote_port=(\d+)`)
	clientLost  = regexp.MustCompile(`connection lost; reconnecting`)
)

// proc is a running bore process whose output is watched.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *watcher
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done
}

// start runs bore with args, watching its output for the patterns.
func start(bore, name string, args ...string) (*proc, error) {
	w := &watcher{}
	cmd := exec.Command(bore, args...)
	cmd.Stdout = w
	cmd.Stderr = w
	// Children die with the soak, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w; run \"make build\" first", name, bore, err)
	}
	p := &proc{name: name, cmd: cmd, out: w, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitFor waits until the output has matched re more than after times and
// returns the first submatch of the latest match (or the whole match).
func (p *proc) waitFor(ctx context.Context, re *regexp.Regexp, after int, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if n, m := p.out.matches(re); n > after {
			return m, nil
		}
		select {
		case <-p.done:
			return "", fmt.Errorf("%s exited (%v); its output:\n%s", p.name, p.err, p.out.String())
		case <-ctx.Done():
			return "", fmt.Errorf("%s: no %q within %v; its output:\n%s", p.name, re, d, p.out.String())
		case <-tick.C:
		}
	}
}

// pid is the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM, waits for the process to exit, and kills it if it
// takes too long.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// kill ends the process at once, as a crash or a power cut would.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// watcher collects a process's output, keeping the last lines for error
// messages and counting matches of the patterns asked about.
type watcher struct {
	mu      sync.Mutex
	partial []byte
	all     []string // every line (bore logs little at info level)
}

const keepLines = 30

// Write implements io.Writer.
func (w *watcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.all = append(w.all, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(b), nil
}

// matches counts the lines matching re and returns the first submatch of
// the last one (the whole match when re has no group).
func (w *watcher) matches(re *regexp.Regexp) (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, last := 0, ""
	for _, l := range w.all {
		if m := re.FindStringSubmatch(l); m != nil {
			n++
			last = m[len(m)-1]
		}
	}
	return n, last
}

// String returns the last lines of output.
func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.all
	if len(lines) > keepLines {
		lines = lines[len(lines)-keepLines:]
	}
	return "  " + strings.Join(lines, "\n  ") + string(w.partial)
}

// startServer starts "bore server" on a free loopback control port (or on
// ctrl when it is not 0) and returns it with its control port.
func startServer(ctx context.Context, bore string, ctrl int, extra ...string) (*proc, int, error) {
	for attempt := 0; ; attempt++ {
		port := ctrl
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return nil, 0, err
			}
		}
		args := append([]string{"server", "--bind-addr", "127.0.0.1", "--control-port", strconv.Itoa(port),
			// Public ports below Linux's ephemeral range, so the soak's
			// own connections never collide with them.
			"--min-port", "10000", "--max-port", "30000"}, extra...)
		srv, err := start(bore, "bore server", args...)
		if err != nil {
			return nil, 0, err
		}
		if _, err = srv.waitFor(ctx, serverReady, 0, startTimeout); err == nil {
			return srv, port, nil
		}
		srv.stop()
		if attempt == 4 || !strings.Contains(err.Error(), "address already in use") {
			return nil, 0, err
		}
		if ctrl != 0 {
			// The old server's port may linger for a moment: retry.
			time.Sleep(time.Second)
		}
	}
}

// startClient starts "bore local" for localPort and waits for its public
// port.
func startClient(ctx context.Context, bore, name string, ctrl, localPort int) (*proc, string, error) {
	cli, err := start(bore, name, "local", strconv.Itoa(localPort),
		"--local-host", "127.0.0.1", "--to", "127.0.0.1", "--control-port", strconv.Itoa(ctrl))
	if err != nil {
		return nil, "", err
	}
	port, err := cli.waitFor(ctx, clientReady, 0, startTimeout)
	if err != nil {
		cli.stop()
		return nil, "", err
	}
	return cli, net.JoinHostPort("127.0.0.1", port), nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// usage is what one process holds at one moment.
type usage struct {
	rss     int64 // bytes
	threads int
	fds     int // every descriptor, including the pipes Go keeps for splice(2)
	sockets int // the descriptors that are sockets
}

func (u usage) String() string {
	return fmt.Sprintf("rss=%.1fMiB thr=%d fds=%d sock=%d", float64(u.rss)/(1<<20), u.threads, u.fds, u.sockets)
}

// measure reads a process's resident memory and threads from
// /proc/PID/status and counts /proc/PID/fd, and the sockets among them.
func measure(pid int) (usage, error) {
	var u usage
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("read /proc/%d/status (is the process still running?): %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			u.rss = n << 10
		case "Threads":
			u.threads = int(n)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return u, fmt.Errorf("list /proc/%d/fd: %w", pid, err)
	}
	u.fds = len(fds)
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			u.sockets++
		}
	}
	return u, nil
}

// raiseFileLimit raises RLIMIT_NOFILE, soft and hard, to want (capped at
// /proc/sys/fs/nr_open) when it is lower. Raising the hard limit needs
// root. Children inherit the limit. It returns the soft limit in force.
func raiseFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			want = min(want, n)
		}
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	next := syscall.Rlimit{Cur: want, Max: max(want, lim.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
		next = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err2 != nil {
			return lim.Cur, fmt.Errorf("raise the open-file limit to %d (run as root or raise it with ulimit -n): %w", want, err)
		}
		return lim.Max, fmt.Errorf("raise the open-file limit to %d: %w; using %d (run as root or raise it with ulimit -Hn)", want, err, lim.Max)
	}
	return want, nil
}

// errTally counts errors by message and keeps the total.
type errTally struct {
	mu    sync.Mutex
	n     int64
	kinds map[string]int64
}

func (e *errTally) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kinds == nil {
		e.kinds = map[string]int64{}
	}
	e.n++
	msg := err.Error()
	// Ports and addresses differ per connection: keep the kind only.
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		msg = op.Op + ": " + op.Err.Error()
	}
	e.kinds[msg]++
}

func (e *errTally) total() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

func (e *errTally) summary() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for k, n := range e.kinds {
		fmt.Fprintf(&b, "  %6d × %s\n", n, k)
	}
	return b.String()
}
