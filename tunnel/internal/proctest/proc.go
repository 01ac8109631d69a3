//go:build linux

package proctest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it kills.
const stopGrace = 10 * time.Second

// keepLines is how many of the last lines of output Output returns.
const keepLines = 30

// Proc is a running child process whose output, standard output and
// standard error together, is recorded line by line.
type Proc struct {
	name string
	cmd  *exec.Cmd
	out  *output
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid once done is closed
}

// Start runs bin with args. name is what error messages call the process.
// env, when not nil, is added to this program's environment (KEY=value).
//
// The child's standard input is a pipe that closes when this program
// exits, so a child may watch it to end with its parent; the child is also
// killed when this program dies, even by SIGKILL.
func Start(bin, name string, env []string, args ...string) (*Proc, error) {
	w := &output{}
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if _, err := cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = childAttr()
	// A grandchild may hold the output pipe open after the child exits:
	// stop reading then rather than wait for it.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w; run \"make build\" first", name, bin, err)
	}
	p := &Proc{name: name, cmd: cmd, out: w, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Name is what error messages call the process.
func (p *Proc) Name() string { return p.name }

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Done returns a channel that is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err returns how the process exited, as [exec.Cmd.Wait] put it, once
// Done is closed, and nil while the process runs.
func (p *Proc) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// WaitFor waits until more than after lines of output have matched re,
// and returns the first submatch of the latest matching line (the whole
// match when re has no group). It fails when the process exits first, when
// timeout passes or when ctx ends; the error holds the last lines of
// output.
func (p *Proc) WaitFor(ctx context.Context, re *regexp.Regexp, after int, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if n, m := p.out.matches(re); n > after {
			return m, nil
		}
		select {
		case <-p.done:
			// Lines written just before the exit still count.
			if n, m := p.out.matches(re); n > after {
				return m, nil
			}
			return "", fmt.Errorf("%s exited (%v); its output:\n%s", p.name, p.err, p.Output())
		case <-ctx.Done():
			return "", fmt.Errorf("%s: no %q within %v; its output:\n%s", p.name, re, timeout, p.Output())
		case <-tick.C:
		}
	}
}

// Matches counts the lines of output so far that match re, and returns
// the first submatch of the last of them (the whole match when re has no
// group).
func (p *Proc) Matches(re *regexp.Regexp) (n int, last string) {
	return p.out.matches(re)
}

// Output returns the last lines of output, indented, for error messages.
func (p *Proc) Output() string { return p.out.String() }

// Stop sends SIGTERM and waits for the process to exit, killing it when
// it takes longer than 10 s. It does nothing once the process has exited.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill ends the process at once, as a crash or a power cut would, and
// waits for it to exit.
func (p *Proc) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// output records a process's output line by line.
type output struct {
	mu      sync.Mutex
	partial []byte   // the unfinished last line
	lines   []string // every line (bore logs little at info level)
}

// Write implements io.Writer.
func (w *output) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.lines = append(w.lines, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(b), nil
}

// matches implements Proc.Matches.
func (w *output) matches(re *regexp.Regexp) (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, last := 0, ""
	for _, l := range w.lines {
		if m := re.FindStringSubmatch(l); m != nil {
			n++
			last = m[min(1, len(m)-1)]
		}
	}
	return n, last
}

// String returns the last keepLines lines, indented.
func (w *output) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.lines
	if len(lines) > keepLines {
		lines = lines[len(lines)-keepLines:]
	}
	return "  " + strings.Join(lines, "\n  ") + string(w.partial)
}
