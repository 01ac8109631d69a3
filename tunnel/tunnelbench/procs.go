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

// startTimeout bounds how long the server and client may take to come up.
const startTimeout = 15 * time.Second

// proc is a running bore process whose output is watched for a pattern.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *watcher
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done
}

// start runs bore with args. Its output is watched for pattern; the first
// submatch is delivered on the watcher's found channel.
func start(bore, name string, pattern *regexp.Regexp, args ...string) (*proc, error) {
	return startWith(bore, name, pattern, nil, args...)
}

// startWith is start with extra environment variables (KEY=value).
func startWith(bin, name string, pattern *regexp.Regexp, env []string, args ...string) (*proc, error) {
	w := &watcher{pattern: pattern, found: make(chan string, 1)}
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	// The service process exits when this pipe closes.
	if _, err := cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd.Stdout = w
	cmd.Stderr = w
	// Children die with the benchmark, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w; run \"make build\" first", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, out: w, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// wait returns the watched pattern's submatch, or an error when the
// process exits first or ctx ends.
func (p *proc) wait(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	select {
	case m := <-p.out.found:
		return m, nil
	case <-p.done:
		return "", fmt.Errorf("%s exited (%v); its output:\n%s", p.name, p.err, p.out.String())
	case <-ctx.Done():
		return "", fmt.Errorf("%s did not come up within %v; its output:\n%s", p.name, startTimeout, p.out.String())
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

// watcher collects a process's output, keeping the last lines for error
// messages, and reports the first match of a pattern.
type watcher struct {
	pattern *regexp.Regexp
	found   chan string

	mu      sync.Mutex
	partial []byte
	lines   []string
	matched bool
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
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if len(w.lines) == keepLines {
			w.lines = w.lines[1:]
		}
		w.lines = append(w.lines, line)
		if !w.matched {
			if m := w.pattern.FindStringSubmatch(line); m != nil {
				w.matched = true
				w.found <- m[1]
			}
		}
	}
	return len(b), nil
}

// String returns the last lines of output.
func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return "  " + strings.Join(w.lines, "\n  ") + string(w.partial)
}

var (
	serverReady = regexp.MustCompile(`server listening addr=\S*:(\d+)`)
	clientReady = regexp.MustCompile(`connected to server remote_port=(\d+)`)
)

// startTunnel starts "bore server" on a free loopback control port and
// "bore local" exposing localPort through it. It returns both processes and
// the public address of the tunnel.
func startTunnel(ctx context.Context, bore string, localPort int) (srv, cli *proc, public string, err error) {
	// The control port is found by binding :0 and closing: another program
	// may take it in between, so a failure to listen is retried.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, nil, "", err
		}
		srv, err = start(bore, "bore server", serverReady, "server",
			"--bind-addr", "127.0.0.1", "--control-port", strconv.Itoa(port),
			// Public ports below Linux's ephemeral range, so the
			// benchmark's own connections do not make them collide.
			"--min-port", "10000", "--max-port", "30000")
		if err != nil {
			return nil, nil, "", err
		}
		if _, err = srv.wait(ctx); err == nil {
			break
		}
		srv.stop()
		if attempt == 4 || !strings.Contains(err.Error(), "address already in use") {
			return nil, nil, "", err
		}
	}
	ctrl := srv.cmd.Args[slicesIndex(srv.cmd.Args, "--control-port")+1]
	cli, err = start(bore, "bore local", clientReady, "local", strconv.Itoa(localPort),
		"--local-host", "127.0.0.1", "--to", "127.0.0.1", "--control-port", ctrl, "--no-reconnect")
	if err != nil {
		srv.stop()
		return nil, nil, "", err
	}
	port, err := cli.wait(ctx)
	if err != nil {
		cli.stop()
		srv.stop()
		return nil, nil, "", err
	}
	return srv, cli, net.JoinHostPort("127.0.0.1", port), nil
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
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

// rssBytes reads VmRSS from /proc/PID/status.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory use of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				break
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS line in /proc/%d/status", pid)
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime reads utime+stime from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	return parseStat(string(b))
}

// parseStat returns utime+stime from the text of /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/PID/stat: no ')'")
	}
	// After ')': field 3 (state) is f[0], so utime (14) is f[11] and
	// stime (15) is f[12].
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("malformed /proc/PID/stat: too few fields")
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc/PID/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// raiseFileLimit raises RLIMIT_NOFILE, soft and hard, to want (capped at
// /proc/sys/fs/nr_open) when it is lower. Children inherit the limit. It
// returns the soft limit in force afterwards.
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
		// Not root: go as high as the hard limit allows.
		next = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err2 != nil {
			return lim.Cur, fmt.Errorf("raise the open-file limit to %d: %w (raising the hard limit needs root with CAP_SYS_RESOURCE)", want, err)
		}
		return lim.Max, fmt.Errorf("raise the open-file limit to %d: %w; using the hard limit, %d (raising it needs root with CAP_SYS_RESOURCE)", want, err, lim.Max)
	}
	return want, nil
}
