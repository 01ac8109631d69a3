package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestServerMetrics(t *testing.T) {
	t.Parallel()
	ctrl, out := startServerCmd(t, nil, "--metrics-addr", "127.0.0.1:0")
	var url string
	re := regexp.MustCompile(`metrics listening addr=(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for url == "" {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics address in %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	scrape := func() string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	body := scrape()
	checkExposition(t, body)
	wants := []string{"bore_tunnels 0", "bore_pending_visitors 0", `bore_refused_total{reason="auth"} 0`, `bore_bytes_total{direction="in"} 0`,
		"# TYPE bore_visitors_total counter", "bore_unused_connections_total 0", "go_goroutines ", "go_memstats_heap_inuse_bytes "}
	if runtime.GOOS == "linux" {
		wants = append(wants, "process_resident_memory_bytes ", "process_cpu_seconds_total ", "process_open_fds ")
	}
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var lout syncBuffer
	go func() {
		done <- Run(ctx, []string{"local", fmt.Sprint(echoService(t)), "--to", fmt.Sprintf("127.0.0.1:%d", ctrl)},
			IO{Getenv: func(string) string { return "" }, Stdout: &lout, Stderr: &lout}, "test")
	}()
	defer func() { cancel(); <-done }()
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(scrape(), "bore_tunnels 1") {
		if time.Now().After(deadline) {
			t.Fatalf("bore_tunnels never reached 1; client said %q", lout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMetricsAddrErrors(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, context.Background(), nil, "server", "--control-port", "0", "--metrics-addr", "nonsense")
	if code != ExitUsage || !strings.Contains(errOut, "--metrics-addr") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// checkExposition checks body is in the text exposition format: every
// sample belongs to the family its HELP and TYPE lines announced just
// before, and parses as name{labels} value.
func checkExposition(t *testing.T, body string) {
	t.Helper()
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (\S+)$`)
	var family string
	for i, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		switch f := strings.Fields(line); {
		case strings.HasPrefix(line, "# HELP "):
			family = f[2]
		case strings.HasPrefix(line, "# TYPE "):
			if f[2] != family || (f[3] != "gauge" && f[3] != "counter") {
				t.Errorf("line %d: %q does not follow the HELP of %s", i+1, line, family)
			}
		default:
			m := sample.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("line %d: %q is not a sample", i+1, line)
				continue
			}
			if m[1] != family {
				t.Errorf("line %d: sample of %s under the family %s", i+1, m[1], family)
			}
			if _, err := strconv.ParseFloat(m[3], 64); err != nil {
				t.Errorf("line %d: value %q: %v", i+1, m[3], err)
			}
		}
	}
}

func TestMetricsEscaping(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	p := promWriter{bufio.NewWriter(&b)}
	p.family("x_total", "counter", "a \\ b\nc")
	p.sample("x_total", 1.5, "k", "q\"\\\n")
	p.w.Flush()
	want := "# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\nx_total{k=\"q\\\"\\\\\\n\"} 1.5\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	checkExposition(t, b.String())
}
