package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// writeProcessMetrics writes the process_* metrics from /proc/self.
func writeProcessMetrics(p promWriter) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return
	}
	// The command name, in parentheses, may hold spaces; the fields
	// after it are numbers (utime is field 14, starttime 22, vsize 23,
	// rss 24, counting from 1).
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return
	}
	f := strings.Fields(string(stat[i+1:]))
	field := func(n int) float64 {
		if n-3 >= len(f) {
			return 0
		}
		v, _ := strconv.ParseFloat(f[n-3], 64)
		return v
	}
	const ticks = 100 // USER_HZ, the unit of /proc's times on Linux
	p.metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (field(14)+field(15))/ticks)
	p.metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", field(24)*float64(os.Getpagesize()))
	p.metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23))
	if up := bootTime(); up > 0 {
		p.metric("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", up+field(22)/ticks)
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		p.metric("process_open_fds", "gauge", "Number of open file descriptors.", float64(len(fds)))
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
		p.metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", float64(lim.Cur))
	}
	p.metric("go_threads", "gauge", "Number of OS threads created.", field(20))
}

// bootTime returns when the system booted, in seconds since the epoch
// (the btime line of /proc/stat), or 0.
func bootTime() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			t, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return t
		}
	}
	return 0
}
