package tunnel

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
)

func TestProbe(t *testing.T) {
	t.Parallel()
	open := startServer(t, ServerConfig{})
	locked := startServer(t, ServerConfig{Secret: "hunter2"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := portOf(ln.Addr())
	ln.Close()
	tests := []struct {
		name   string
		port   uint16
		secret string
		want   error
	}{
		{"open_no_secret", open.port, "", nil},
		{"open_with_secret", open.port, "hunter2", ErrNoAuthExpected},
		{"secret_right", locked.port, "hunter2", nil},
		{"secret_wrong", locked.port, "nope", ErrInvalidSecret},
		{"secret_missing", locked.port, "", ErrAuthRequired},
		{"unreachable", closed, "", syscall.ECONNREFUSED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Probe(context.Background(), "127.0.0.1", tt.port, tt.secret)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Probe = %v, want %v", err, tt.want)
			}
		})
	}
	if n := open.Stats().Tunnels; n != 0 {
		t.Errorf("a probe opened %d tunnels", n)
	}
}
