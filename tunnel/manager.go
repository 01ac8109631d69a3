package tunnel

import (
	"context"
	"sort"
	"sync"
	"time"
)

// StatsInterval is the most often a Manager publishes a snapshot when only
// counters (connections, bytes) changed. State changes publish at once.
const StatsInterval = time.Second

// Manager runs any number of client tunnels in background goroutines and
// reports their state. Its methods are safe for concurrent use.
type Manager struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	nextID  TunnelID
	tunnels map[TunnelID]*managed
	closed  bool

	stateCh   chan struct{} // a state changed: publish now
	countCh   chan struct{} // counters moved: publish within StatsInterval
	watchCh   chan *watcher
	unwatchCh chan *watcher
	loopDone  chan struct{}
	wg        sync.WaitGroup // tunnel goroutines
}

type managed struct {
	t      *Tunnel
	cancel context.CancelFunc
	done   chan struct{}
}

type watcher struct {
	ch  chan Snapshot
	ctx context.Context
}

// NewManager returns a Manager with no tunnels.
func NewManager() *Manager {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		ctx:       ctx,
		cancel:    cancel,
		tunnels:   make(map[TunnelID]*managed),
		stateCh:   make(chan struct{}, 1),
		countCh:   make(chan struct{}, 1),
		watchCh:   make(chan *watcher),
		unwatchCh: make(chan *watcher),
		loopDone:  make(chan struct{}),
	}
	go m.loop()
	return m
}

// Start begins a tunnel in the background and returns its ID at once. The
// tunnel connects, reconnects and reports through Watch until Stop or Close.
// It fails only when cfg is invalid or the Manager is closed.
func (m *Manager) Start(cfg ClientConfig) (TunnelID, error) {
	t, err := NewTunnel(cfg)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return 0, errManagerClosed
	}
	m.nextID++
	id := m.nextID
	t.status.ID = id
	t.onChange = m.changed
	ctx, cancel := context.WithCancel(m.ctx)
	mt := &managed{t: t, cancel: cancel, done: make(chan struct{})}
	m.tunnels[id] = mt
	m.wg.Add(1)
	m.mu.Unlock()

	go func() {
		defer m.wg.Done()
		defer close(mt.done)
		t.Run(ctx) // the outcome is in the tunnel's status
	}()
	m.changed(true)
	return id, nil
}

// Stop ends a tunnel: its control connection is closed and every visitor
// connection being forwarded is reset, and it disappears from later
// snapshots. Stop waits for the tunnel's goroutines to end. Stopping an
// unknown tunnel does nothing.
func (m *Manager) Stop(id TunnelID) {
	m.mu.Lock()
	mt := m.tunnels[id]
	m.mu.Unlock()
	if mt == nil {
		return
	}
	mt.cancel()
	<-mt.done
	m.mu.Lock()
	delete(m.tunnels, id)
	m.mu.Unlock()
	m.changed(true)
}

// Snapshot returns the current state of every tunnel.
func (m *Manager) Snapshot() Snapshot {
	m.mu.Lock()
	ts := make([]*Tunnel, 0, len(m.tunnels))
	for _, mt := range m.tunnels {
		ts = append(ts, mt.t)
	}
	m.mu.Unlock()
	snap := Snapshot{Tunnels: make([]Status, 0, len(ts))}
	for _, t := range ts {
		t.dirty.Store(false)
		snap.Tunnels = append(snap.Tunnels, t.Status())
	}
	sort.Slice(snap.Tunnels, func(i, j int) bool { return snap.Tunnels[i].ID < snap.Tunnels[j].ID })
	return snap
}

// Watch returns a channel that receives the current snapshot at once, then a
// new one whenever a tunnel changes state (at once) or its counters change
// (at most once per StatsInterval). A slow reader only misses intermediate
// snapshots; it never slows a tunnel. The channel is closed when ctx ends or
// the Manager is closed.
func (m *Manager) Watch(ctx context.Context) <-chan Snapshot {
	w := &watcher{ch: make(chan Snapshot, 1), ctx: ctx}
	select {
	case m.watchCh <- w:
	case <-m.loopDone:
		close(w.ch)
	}
	return w.ch
}

// Close stops every tunnel and waits for their goroutines to end. Watch
// channels are closed.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	<-m.loopDone
}

// changed is each tunnel's onChange hook. It never blocks.
func (m *Manager) changed(state bool) {
	ch := m.countCh
	if state {
		ch = m.stateCh
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

// loop publishes snapshots to watchers: at once for state changes, at most
// once per StatsInterval for counters.
func (m *Manager) loop() {
	defer close(m.loopDone)
	var watchers []*watcher
	remove := func(w *watcher) {
		for i, x := range watchers {
			if x == w {
				watchers = append(watchers[:i], watchers[i+1:]...)
				close(w.ch)
				return
			}
		}
	}
	defer func() {
		for _, w := range watchers {
			close(w.ch)
		}
	}()
	send := func(w *watcher, s Snapshot) {
		select { // drop a stale snapshot the reader has not taken
		case <-w.ch:
		default:
		}
		w.ch <- s
	}
	publish := func() {
		s := m.Snapshot()
		for _, w := range watchers {
			send(w, s)
		}
	}
	var lastPublish time.Time
	var statsTimer *time.Timer
	var statsC <-chan time.Time
	for {
		select {
		case <-m.ctx.Done():
			// Let tunnels finish reporting, then stop.
			m.wg.Wait()
			return
		case w := <-m.watchCh:
			watchers = append(watchers, w)
			send(w, m.Snapshot())
			context.AfterFunc(w.ctx, func() {
				select {
				case m.unwatchCh <- w:
				case <-m.loopDone:
				}
			})
		case w := <-m.unwatchCh:
			remove(w)
		case <-m.stateCh:
			publish()
			lastPublish = time.Now()
		case <-m.countCh:
			if statsC != nil {
				continue // already scheduled
			}
			wait := StatsInterval - time.Since(lastPublish)
			if wait <= 0 {
				publish()
				lastPublish = time.Now()
				continue
			}
			statsTimer = time.NewTimer(wait)
			statsC = statsTimer.C
		case <-statsC:
			statsC = nil
			publish()
			lastPublish = time.Now()
		}
	}
}
