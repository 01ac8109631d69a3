//go:build !linux

package desktop

import "context"

// WaitForHost returns at once outside Linux: the tray is part of the
// desktop itself.
func WaitForHost(ctx context.Context) error { return nil }
