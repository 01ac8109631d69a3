//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

func TestMain(m *testing.M) {
	// The benchmark starts its own binary, this test binary here, as the
	// local service.
	if os.Getenv(serviceEnv) == "1" {
		os.Exit(serveMain(os.Stdin, os.Stdout))
	}
	goleak.VerifyTestMain(m)
}

// TestQuickRun runs the whole benchmark in its quick mode against freshly
// built bore processes, so it keeps working as the tunnel changes. It
// checks that every measurement ran and that the table is complete, never
// the numbers: timings depend on the machine.
func TestQuickRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the benchmark reads /proc and runs on Linux only")
	}
	bore := proctest.BuildBore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-quick", "-bore", bore, "-nofile", "0"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("run exited %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	out := stdout.String()
	for _, want := range []string{
		"bulk up, 1 conn (MB/s)",
		"bulk down, 1 conn (MB/s)",
		"setup: connect+1B echo p50 (us)",
		"setup: connect+1B echo p99 (us)",
		"64-byte round trip p50 (us)",
		"64-byte round trip p99 (us)",
		"RSS per conn, server+client (KiB)",
		"CPU per GiB moved, server+client (s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table has no %q row:\n%s", want, out)
		}
	}
	// Correctness, not speed: every connection must get through.
	if !containsRow(out, "50 conns open and echoing", "50", "PASS") {
		t.Errorf("not all 50 connections got through:\n%s", out)
	}
}

// containsRow reports whether a line of out starts with metric and has
// all of fields.
func containsRow(out, metric string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, metric)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		all := true
		for _, want := range fields {
			found := false
			for _, g := range f {
				if g == want {
					found = true
				}
			}
			all = all && found
		}
		if all {
			return true
		}
	}
	return false
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}} {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", c.p, got, c.want)
		}
	}
}

// TestQuickSideBySide runs the side-by-side and real-link scenarios at
// their smallest, ours only, so that the namespace and link-emulator code
// keeps working. It needs root and iproute2 (CI has both).
func TestQuickSideBySide(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the benchmark reads /proc and runs on Linux only")
	}
	if _, err := exec.LookPath("ip"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the side-by-side scenarios need root and the ip command (apt-get install iproute2)")
		}
		t.Skip("the side-by-side scenarios need root and the ip command (apt-get install iproute2)")
	}
	bore := proctest.BuildBore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-quick", "-side", "-wan", "-bore", bore, "-nofile", "0",
		"-setups", "20", "-bulk", "1000000", "-wan-bulk", "200000", "-settle", "1s"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("run exited %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	out := stdout.String()
	for _, want := range []string{
		"loopback setup p50 (us)",
		"idle RSS, client (MiB)",
		"WAN 40ms, no secret: first echo p50 (RTT)",
		"WAN 100ms, secret: first echo p90 (RTT)",
		"WAN bulk down at 100 Mbit/s (x cap)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("side-by-side table has no %q row:\n%s", want, out)
		}
	}
}
