package tunnel

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

// TestVanishedClientLosesPort cuts a client off the network without a FIN
// or an RST, as when a laptop drops off Wi-Fi, and checks that the server
// frees its port within seconds (DefaultClientTimeout) rather than the ~15
// minutes the kernel would otherwise spend retransmitting.
//
// Server and client run as real processes in two network namespaces of
// the test's own, joined by a veth pair on 192.0.2.0/30 (TEST-NET-1,
// reserved for documentation: no real host has these addresses, and the
// traffic never leaves the pair). Taking the client's end of the link down
// makes it vanish.
func TestVanishedClientLosesPort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bore and waits out the client timeout; skipped with -short")
	}
	t.Parallel()
	id := os.Getpid() % 100000
	nsSrv, nsCli := fmt.Sprintf("bore-vs-%d", id), fmt.Sprintf("bore-vc-%d", id)
	ifSrv, ifCli := fmt.Sprintf("bvs%d", id), fmt.Sprintf("bvc%d", id)
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", nsSrv); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot make a network namespace (CI runs as root with iproute2 installed): %v", err)
		}
		t.Skipf("needs root and iproute2 to make network namespaces: %v", err)
	}
	t.Cleanup(func() { ip("netns", "del", nsSrv) })
	if err := ip("netns", "add", nsCli); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ip("netns", "del", nsCli) })
	for _, args := range [][]string{
		{"link", "add", ifSrv, "type", "veth", "peer", "name", ifCli},
		{"link", "set", ifSrv, "netns", nsSrv},
		{"link", "set", ifCli, "netns", nsCli},
		{"-n", nsSrv, "addr", "add", "192.0.2.1/30", "dev", ifSrv},
		{"-n", nsCli, "addr", "add", "192.0.2.2/30", "dev", ifCli},
		{"-n", nsSrv, "link", "set", ifSrv, "up"},
		{"-n", nsCli, "link", "set", ifCli, "up"},
		{"-n", nsSrv, "link", "set", "lo", "up"},
		{"-n", nsCli, "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}

	bin := proctest.BuildBore(t)
	run := func(ns string, args ...string) *lockedBuffer {
		out := new(lockedBuffer)
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		return out
	}
	waitLine := func(what string, out *lockedBuffer, re *regexp.Regexp, d time.Duration) []string {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within %v; output:\n%s", what, d, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	srvOut := run(nsSrv, "server", "--bind-addr", "192.0.2.1", "--control-port", "7835")
	waitLine("server start", srvOut, regexp.MustCompile(`server listening`), 10*time.Second)
	cliOut := run(nsCli, "local", "1", "--to", "192.0.2.1", "--local-host", "127.0.0.1")
	port := waitLine("tunnel", cliOut, regexp.MustCompile(`listening at 192\.0\.2\.1:(\d+)`), 20*time.Second)[1]
	waitLine("new client", srvOut, regexp.MustCompile(`new client .*port=`+port), 10*time.Second)

	// The client vanishes: its link goes down and nothing more reaches the
	// server, not even an RST.
	if err := ip("-n", nsCli, "link", "set", ifCli, "down"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitLine("drop of the vanished client", srvOut, regexp.MustCompile(`client gone .*port=`+port), DefaultClientTimeout+30*time.Second)
	t.Logf("vanished client dropped after %v (client timeout %v)", time.Since(start).Round(100*time.Millisecond), DefaultClientTimeout)
}
