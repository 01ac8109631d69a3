package app

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/boretray/bore/tunnel"
)

func TestReasonIsWordedForTheTray(t *testing.T) {
	for _, tt := range []struct {
		st   tunnel.Status
		want string
	}{
		{tunnel.Status{Err: fmt.Errorf("hello: %w", &tunnel.ServerError{Text: "invalid secret"})}, "the server refused the secret: check the secret for this server"},
		{tunnel.Status{Err: tunnel.ErrAuthRequired}, "the server requires a secret: add one in the server's settings"},
		{tunnel.Status{Err: tunnel.ErrNoAuthExpected}, "a secret was given but this server does not use one: remove it"},
		{tunnel.Status{Err: &tunnel.ServerError{Text: "something new"}}, "the server said: something new"},
		{tunnel.Status{Err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED)}, "server unreachable: connection refused"},
		{tunnel.Status{Reason: "engine words"}, "engine words"},
		{tunnel.Status{State: tunnel.StateFailed}, ""},
	} {
		if got := reason(tt.st); got != tt.want {
			t.Errorf("reason(%v) = %q, want %q", tt.st.Err, got, tt.want)
		}
	}
	if got := failReason(tunnel.Status{State: tunnel.StateFailed}); got != "the tunnel stopped" {
		t.Errorf("failReason = %q", got)
	}
}
