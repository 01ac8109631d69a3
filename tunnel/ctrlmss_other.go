//go:build !linux

package tunnel

// controlDialer returns d unchanged outside Linux.
func controlDialer(d Dialer) Dialer { return d }
