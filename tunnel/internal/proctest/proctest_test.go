//go:build linux

package proctest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// needLinux skips a test that reads /proc or relies on Pdeathsig.
func needLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("proctest reads /proc and runs on Linux only")
	}
}

// needSh returns the path of sh.
func needSh(t *testing.T) string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no sh on PATH: %v", err)
		}
		t.Skipf("no sh on PATH: %v", err)
	}
	return sh
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// A command name with spaces and parentheses, as a process may set.
	stat := "1234 (bore (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 5 0 100 0 0"
	got, err := parseStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Errorf("parseStat = %v, want %v (utime 250 + stime 75 ticks)", got, want)
	}
	for _, bad := range []string{"1234 (bore) S 1", "1234 bore S", "1234 (bore) S 1 1 1 0 -1 0 0 0 0 0 x 75 0"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) accepted a malformed line", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	status := "Name:\tbore\nState:\tS (sleeping)\nVmPeak:\t  800000 kB\nVmRSS:\t    2048 kB\nThreads:\t7\nSigQ:\t0/63388\n"
	rss, threads, err := parseStatus(status)
	if err != nil {
		t.Fatal(err)
	}
	if rss != 2048<<10 || threads != 7 {
		t.Errorf("parseStatus = rss %d, threads %d; want %d, 7", rss, threads, 2048<<10)
	}
	// A zombie has no VmRSS line.
	if _, _, err := parseStatus("Name:\tbore\nState:\tZ (zombie)\nThreads:\t1\n"); err == nil {
		t.Error("parseStatus accepted a status without VmRSS")
	}
	if _, _, err := parseStatus("VmRSS:\t2 MB\n"); err == nil {
		t.Error("parseStatus accepted VmRSS in a unit other than kB")
	}
}

func TestUsageOfSelf(t *testing.T) {
	needLinux(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Burn a little CPU so that at least one tick is counted.
	deadline := time.Now().Add(5 * time.Second)
	var u Stats
	for {
		if u, err = Usage(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if u.CPU > 0 || time.Now().After(deadline) {
			break
		}
		for i := 0; i < 1e6; i++ {
			_ = strings.Repeat("x", i%3)
		}
	}
	if u.RSS <= 0 {
		t.Errorf("RSS = %d, want > 0", u.RSS)
	}
	if u.CPU <= 0 {
		t.Errorf("CPU = %v after spinning, want > 0", u.CPU)
	}
	if u.Threads < 1 {
		t.Errorf("Threads = %d, want >= 1", u.Threads)
	}
	if u.Sockets < 1 {
		t.Errorf("Sockets = %d with a listener open, want >= 1", u.Sockets)
	}
	if u.FDs < u.Sockets+3 {
		t.Errorf("FDs = %d, want at least the %d sockets plus stdin, stdout and stderr", u.FDs, u.Sockets)
	}
	if s := u.String(); !strings.Contains(s, "rss=") || !strings.Contains(s, "sock=") {
		t.Errorf("String() = %q, want rss= and sock= fields", s)
	}
}

func TestUsageOfExited(t *testing.T) {
	needLinux(t)
	sh := needSh(t)
	p, err := Start(sh, "sh", nil, "-c", "exit 0")
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if _, err := Usage(p.PID()); err == nil {
		t.Error("Usage of a process that has exited and been waited for succeeded")
	}
}

func TestFreePort(t *testing.T) {
	t.Parallel()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if port <= 0 || port > 65535 {
		t.Fatalf("FreePort = %d, not a port", port)
	}
	// It was free: it can be bound, unless another program took it in the
	// meantime, which this test cannot rule out, so it only logs that.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Logf("port %d was taken again before the test bound it: %v", port, err)
		return
	}
	ln.Close()
}

func TestStartWaitForStop(t *testing.T) {
	needLinux(t)
	sh := needSh(t)
	p, err := Start(sh, "child", []string{"PROCTEST_WORD=ready"}, "-c", `echo "starting"; echo "$PROCTEST_WORD port=4242"; exec sleep 30`)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if p.Name() != "child" || p.PID() <= 0 {
		t.Errorf("Name, PID = %q, %d", p.Name(), p.PID())
	}
	ctx := context.Background()
	got, err := p.WaitFor(ctx, regexp.MustCompile(`ready port=(\d+)`), 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got != "4242" {
		t.Errorf("WaitFor = %q, want the submatch 4242", got)
	}
	if n, m := p.Matches(regexp.MustCompile(`start`)); n != 1 || m != "start" {
		t.Errorf("Matches(start) = %d, %q; want 1, the whole match", n, m)
	}
	if out := p.Output(); !strings.Contains(out, "starting") || !strings.Contains(out, "ready port=4242") {
		t.Errorf("Output() = %q, want both lines", out)
	}
	if err := p.Err(); err != nil {
		t.Errorf("Err() while running = %v, want nil", err)
	}
	if _, err := Usage(p.PID()); err != nil {
		t.Errorf("Usage of the running child: %v", err)
	}
	p.Stop()
	select {
	case <-p.Done():
	default:
		t.Fatal("Done is open after Stop returned")
	}
	if p.Err() == nil {
		t.Error("Err() = nil after SIGTERM, want the signal")
	}
	p.Stop() // a second Stop does nothing
}

func TestWaitForAfter(t *testing.T) {
	needLinux(t)
	sh := needSh(t)
	p, err := Start(sh, "child", nil, "-c", `echo "up 1"; read line; echo "up 2"; sleep 30`)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	re := regexp.MustCompile(`up (\d)`)
	if got, err := p.WaitFor(context.Background(), re, 0, time.Minute); err != nil || got != "1" {
		t.Fatalf("WaitFor(after 0) = %q, %v; want 1", got, err)
	}
	// The second line only comes once stdin has a line, which it never
	// gets: WaitFor for it must give up when ctx ends.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.WaitFor(ctx, re, 1, time.Minute); err == nil || !strings.Contains(err.Error(), "up 1") {
		t.Errorf("WaitFor(after 1) with ctx done = %v, want an error holding the output", err)
	}
}

func TestWaitForExit(t *testing.T) {
	needLinux(t)
	sh := needSh(t)
	p, err := Start(sh, "quitter", nil, "-c", `echo "something else"; exit 3`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.WaitFor(context.Background(), regexp.MustCompile(`ready`), 0, time.Minute)
	if err == nil {
		t.Fatal("WaitFor succeeded on a process that never printed the pattern")
	}
	for _, want := range []string{"quitter exited", "exit status 3", "something else"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not hold %q", err, want)
		}
	}
}

func TestKill(t *testing.T) {
	needLinux(t)
	sh := needSh(t)
	// The child ignores SIGTERM, so only SIGKILL ends it.
	p, err := Start(sh, "stubborn", nil, "-c", `trap "" TERM; echo ready; exec sleep 30`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitFor(context.Background(), regexp.MustCompile(`ready`), 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	select {
	case <-p.Done():
	default:
		t.Fatal("Done is open after Kill returned")
	}
}

func TestStartMissing(t *testing.T) {
	t.Parallel()
	_, err := Start("/nonexistent/bore", "bore server", nil, "server")
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("Start of a missing binary = %v, want an error that says to build it", err)
	}
}

func TestRaiseFileLimit(t *testing.T) {
	needLinux(t)
	// Asking for no more than is in force changes nothing.
	got, err := RaiseFileLimit(1)
	if err != nil {
		t.Fatal(err)
	}
	if got < 1 {
		t.Errorf("RaiseFileLimit(1) = %d", got)
	}
}

func TestMonitorCPU(t *testing.T) {
	needLinux(t)
	mon, err := MonitorCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	u, err := Usage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if mon < 0 || mon > u.CPU {
		t.Errorf("MonitorCPU = %v, want between 0 and the process's %v", mon, u.CPU)
	}
	if _, err := MonitorCPU(1 << 30); err == nil {
		t.Error("MonitorCPU of a process that does not exist: no error")
	}
}
