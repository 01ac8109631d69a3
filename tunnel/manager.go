package tunnel

import "context"

// Manager runs any number of client tunnels in background goroutines and
// reports their state. Its methods are safe for concurrent use.
type Manager struct{}

// NewManager returns a Manager with no tunnels.
func NewManager() *Manager { return &Manager{} }

// Start begins a tunnel in the background and returns its ID at once. The
// tunnel connects, reconnects and reports through Watch until Stop or Close.
// It fails only when cfg is invalid.
func (m *Manager) Start(cfg ClientConfig) (TunnelID, error) { return 0, nil }

// Stop ends a tunnel: its control connection and every visitor connection
// are closed. Stopping an unknown or stopped tunnel does nothing.
func (m *Manager) Stop(id TunnelID) {}

// Snapshot returns the current state of every tunnel.
func (m *Manager) Snapshot() Snapshot { return Snapshot{} }

// Watch returns a channel that receives the current snapshot at once, then a
// new one whenever a tunnel changes state (at once) or its counters change
// (at most once per second). A slow reader only misses intermediate
// snapshots; it never slows a tunnel. The channel is closed when ctx ends or
// the Manager is closed.
func (m *Manager) Watch(ctx context.Context) <-chan Snapshot {
	ch := make(chan Snapshot)
	close(ch)
	return ch
}

// Close stops every tunnel and waits for their goroutines to end.
func (m *Manager) Close() {}
