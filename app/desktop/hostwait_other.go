//go:build !linux

package desktop

import (
	"context"
	"time"
)

// WaitForHost returns at once outside Linux: the tray is part of the
// desktop itself.
func WaitForHost(ctx context.Context) error { return nil }

// TrayItemName is "" outside Linux: there is no bus name to register.
func TrayItemName() string { return "" }

// EnsureRegistered has nothing to do outside Linux.
func EnsureRegistered(ctx context.Context, name string, wait time.Duration) error { return nil }
