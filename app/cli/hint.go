package cli

import (
	"errors"
	"syscall"

	"github.com/boretray/bore/tunnel"
)

// hint says, in the command line's terms, what to do about an error that
// ended "bore local"; "" when the error says it all.
func hint(err error) string {
	switch {
	case errors.Is(err, tunnel.ErrInvalidSecret):
		return "check the secret given with --secret or BORE_SECRET"
	case errors.Is(err, tunnel.ErrSecretRequired), errors.Is(err, tunnel.ErrAuthRequired):
		return "this server needs a secret: pass it with --secret or BORE_SECRET"
	case errors.Is(err, tunnel.ErrNoAuthExpected):
		return "this server uses no secret: leave out --secret and BORE_SECRET"
	case errors.Is(err, tunnel.ErrPortRange):
		return "the server does not allow that port: pick another with --port, or leave it out"
	case errors.Is(err, tunnel.ErrPortInUse):
		return "that port is already taken on the server: pick another with --port, or leave it out"
	case errors.Is(err, tunnel.ErrNoHeartbeat):
		return "the server stopped responding"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing accepts connections at the server's control port: check --to and --control-port"
	}
	return ""
}
