package tunnel

// The Error messages a bore server sends that clients branch on, as
// *ServerError values: errors.Is(err, ErrInvalidSecret) holds for any
// ServerError with the same text.
var (
	// ErrInvalidSecret: the server refused the secret.
	ErrInvalidSecret error = &ServerError{Text: errTextInvalidSecret}
	// ErrSecretRequired: the server requires a secret and none was given.
	ErrSecretRequired error = &ServerError{Text: errTextSecretRequired}
	// ErrPortRange: the server does not hand out the port asked for.
	ErrPortRange error = &ServerError{Text: errTextPortRange}
	// ErrPortInUse: the port asked for is taken on the server.
	ErrPortInUse error = &ServerError{Text: errTextPortInUse}
	// ErrNoFreePort: the server has no free port left.
	ErrNoFreePort error = &ServerError{Text: errTextNoFreePort}
	// ErrTooManyTunnels: the client's address holds too many tunnels.
	ErrTooManyTunnels error = &ServerError{Text: errTextTooManyTunnels}
	// ErrServerBusy: the server refused the connection for now.
	ErrServerBusy error = &ServerError{Text: errTextServerBusy}
)

// Is reports whether target is a *ServerError with the same text.
func (e *ServerError) Is(target error) bool {
	t, ok := target.(*ServerError)
	return ok && t.Text == e.Text
}
