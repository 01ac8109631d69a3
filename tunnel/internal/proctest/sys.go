//go:build linux

package proctest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago. Another
// program may take it before the caller binds it.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Stats is what one process holds at one moment, as Usage reads it.
type Stats struct {
	RSS     int64         // resident memory, bytes
	CPU     time.Duration // user plus system time since the process began
	Threads int
	FDs     int // every descriptor, including the pipes Go keeps for splice(2)
	Sockets int // the descriptors that are sockets
}

// String formats u for a report line: memory, threads, descriptors and
// sockets. CPU time is left out: only a difference of two tells anything.
func (u Stats) String() string {
	return fmt.Sprintf("rss=%.1fMiB thr=%d fds=%d sock=%d", float64(u.RSS)/(1<<20), u.Threads, u.FDs, u.Sockets)
}

// Usage reads what process pid holds from /proc/PID/status, /proc/PID/stat
// and /proc/PID/fd. It fails once the process has exited.
func Usage(pid int) (Stats, error) {
	var u Stats
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("read /proc/%d/status (is the process still running?): %w", pid, err)
	}
	if u.RSS, u.Threads, err = parseStatus(string(b)); err != nil {
		return u, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	if b, err = os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil {
		return u, fmt.Errorf("read /proc/%d/stat (is the process still running?): %w", pid, err)
	}
	if u.CPU, err = parseStat(string(b)); err != nil {
		return u, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return u, fmt.Errorf("list /proc/%d/fd (is the process still running?): %w", pid, err)
	}
	u.FDs = len(fds)
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			u.Sockets++
		}
	}
	return u, nil
}

// parseStatus returns VmRSS, in bytes, and Threads from the text of
// /proc/PID/status. A process that has exited but not been waited for has
// no VmRSS line: that is an error.
func parseStatus(s string) (rss int64, threads int, err error) {
	haveRSS := false
	for _, line := range strings.Split(s, "\n") {
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
			if len(f) != 2 || f[1] != "kB" {
				return 0, 0, fmt.Errorf("VmRSS is %q, not in kB", strings.TrimSpace(v))
			}
			rss, haveRSS = n<<10, true
		case "Threads":
			threads = int(n)
		}
	}
	if !haveRSS {
		return 0, 0, errors.New("no VmRSS line (has the process exited?)")
	}
	return rss, threads, nil
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

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

// RaiseFileLimit raises RLIMIT_NOFILE, soft and hard, to want (capped at
// /proc/sys/fs/nr_open) when it is lower. Children inherit the limit. It
// returns the soft limit in force afterwards, with an error, to be shown
// as a warning, when that is lower than want: raising the hard limit needs
// root.
func RaiseFileLimit(want uint64) (uint64, error) {
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
			return lim.Cur, fmt.Errorf("raise the open-file limit to %d: %w (run as root, or raise it with ulimit -n first)", want, err)
		}
		return lim.Max, fmt.Errorf("raise the open-file limit to %d: %w; using the hard limit, %d (run as root, or raise it with ulimit -Hn first)", want, err, lim.Max)
	}
	return want, nil
}

// MonitorCPU returns the CPU time, user plus system, of the Go runtime's
// monitor thread (sysmon) in process pid, a Go program: the first thread
// the runtime starts, so the one with the lowest ID after the main
// thread's. A program that is not written in Go has no such thread, and
// the number then means nothing.
func MonitorCPU(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("list %s (is the process still running?): %w", dir, err)
	}
	mon := 0
	for _, e := range tasks {
		tid, err := strconv.Atoi(e.Name())
		if err == nil && tid != pid && (mon == 0 || tid < mon) {
			mon = tid
		}
	}
	if mon == 0 {
		return 0, fmt.Errorf("process %d has one thread: no runtime monitor", pid)
	}
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", dir, mon))
	if err != nil {
		return 0, fmt.Errorf("read %s/%d/stat: %w", dir, mon, err)
	}
	return parseStat(string(b))
}
