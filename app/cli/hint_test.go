package cli

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/boretray/bore/tunnel"
)

func TestHint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("handshake: %w", &tunnel.ServerError{Text: "invalid secret"}), "--secret"},
		{tunnel.ErrAuthRequired, "needs a secret"},
		{&tunnel.ServerError{Text: "port already in use"}, "--port"},
		{tunnel.ErrServerClosed, ""},
	} {
		got := hint(tt.err)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("hint(%v) = %q, want one with %q", tt.err, got, tt.want)
		}
		if strings.Contains(got, "settings") {
			t.Errorf("hint(%v) = %q speaks of the tray's settings", tt.err, got)
		}
	}
}

func TestServerControlPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	code, _, errOut := run(t, context.Background(), nil, "server", "--bind-addr", "127.0.0.1", "--control-port", port)
	if code != ExitRuntime || !strings.Contains(errOut, "is another server running?") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
