package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
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
	for _, want := range []string{"bore_tunnels 0", "bore_pending_visitors 0", `bore_refused_total{reason="auth"} 0`, `bore_bytes_total{direction="in"} 0`, "bore_unused_connections_total 0"} {
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
