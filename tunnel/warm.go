package tunnel

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Warm accept connections.
//
// bore's protocol costs a visitor one round trip for the Connection
// message to reach the client, and then the client's connect to the
// server (one more round trip, two with a secret) before its Accept can
// leave. A tunnel keeps a few accept connections ready instead: connected
// and, with a secret, already authenticated. A Connection message is then
// answered at once with an Accept on one of them, and the visitor's first
// byte comes back two round trips after it connected, the protocol's floor.
//
// A bore server drops a connection that sends no frame within 3 s (counted
// from the connect, or from the Authenticate), so against an unknown server
// a ready connection is used or replaced within warmLifetime. Our server
// lets an authenticated connection wait ReadyTimeout; a tunnel with a
// secret learns this once per session by keeping one ready connection past
// 3 s (the probe) and, if the server has not dropped it by warmProbeAt,
// keeps its ready connections for warmLenientLifetime instead.
//
// How many: the largest burst of visitors (Connection messages less than
// warmBurstWindow apart) seen in the last warmPeakMemory, at least one
// while a visitor came within warmIdle (a session that just opened counts
// as one visitor), none after that, and never more than the tunnel's
// WarmConns (DefaultWarmConns).
//
// The cost while idle is the replacements: against a bore server, or
// without a secret, 60 s / warmLifetime = 24 connections a minute per ready
// connection; against our server with a secret, 60 s / 25 s = 2.4. After a
// burst of n visitors and then silence that is n×24 a minute for the first
// minute, 24 a minute until warmIdle has passed since the last visitor, and
// zero after that.
const (
	// DefaultWarmConns is the most ready accept connections a tunnel
	// keeps, unless ClientConfig.WarmConns says otherwise.
	DefaultWarmConns = 8
	// warmLifetime is how long a ready connection is kept against a server
	// that may drop it at 3 s: 0.5 s spare for the Accept's way there.
	warmLifetime = 2500 * time.Millisecond
	// warmProbeAt is the age at which the probe is checked: a server that
	// has not dropped it by then lets ready connections wait.
	warmProbeAt = 30 * time.Second
	// warmLenientLifetime is how long a ready connection is kept once the
	// server proved patient: below the probe's age, with room to spare.
	warmLenientLifetime = 25 * time.Second
	// warmIdle is how long after the last visitor one ready connection is
	// still kept.
	warmIdle = 2 * time.Minute
	// warmPeakMemory is how long a burst's size sets the pool's size.
	warmPeakMemory = time.Minute
	// warmBurstWindow groups Connection messages into one burst.
	warmBurstWindow = time.Second
	// warmBuckets splits warmPeakMemory to remember the peak in O(1) space.
	warmBuckets = 6
)

// warmTimers are the pool's durations; tests shorten them.
type warmTimers struct {
	lifetime, probeAt, lenientLifetime, idle, peakMemory time.Duration
}

var defaultWarmTimers = warmTimers{warmLifetime, warmProbeAt, warmLenientLifetime, warmIdle, warmPeakMemory}

// warmConn is one ready accept connection.
type warmConn struct {
	conn     net.Conn
	fr       *frameReader
	ready    time.Time // connected (and authenticated)
	replaced bool      // a replacement is on its way
}

// warmPool keeps a session's ready accept connections.
type warmPool struct {
	t    *Tunnel
	ctx  context.Context
	max  int
	tm   warmTimers
	kick chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	ready   []*warmConn // oldest first
	probe   *warmConn   // held past lifetime to learn the server's patience
	probed  bool
	lenient bool // the server proved it lets ready connections wait
	opening int
	setup   time.Duration // how long the last ready connection took to open
	failed  int           // opens failed in a row
	retryAt time.Time     // no opens before this after failures

	wakeAt     time.Time // when run's timer fires next; zero: not armed
	lastDemand time.Time
	arrivals   []time.Time // the last max Connection arrivals, a ring
	next       int
	peaks      [warmBuckets]struct {
		slot int64
		peak int
	}
	opened int64 // ready connections opened, for tests and stats
}

// newWarmPool starts a pool for one session; it ends with ctx.
func newWarmPool(ctx context.Context, t *Tunnel) *warmPool {
	p := &warmPool{t: t, ctx: ctx, max: t.maxWarm, tm: t.warm, kick: make(chan struct{}, 1)}
	if p.max <= 0 {
		return p
	}
	p.arrivals = make([]time.Time, p.max)
	p.demand(time.Now()) // a tunnel that just opened expects a visitor
	p.wg.Add(1)
	go p.run()
	return p
}

// wait waits for the pool's goroutines after its context ended.
func (p *warmPool) wait() { p.wg.Wait() }

func (p *warmPool) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// demand records a Connection message arriving at now.
func (p *warmPool) demand(now time.Time) {
	if p.max <= 0 {
		return
	}
	p.mu.Lock()
	p.arrivals[p.next] = now
	p.next = (p.next + 1) % len(p.arrivals)
	burst := 0
	for _, a := range p.arrivals {
		if !a.IsZero() && now.Sub(a) < warmBurstWindow {
			burst++
		}
	}
	slot := now.UnixNano() / int64(p.tm.peakMemory/warmBuckets)
	b := &p.peaks[slot%warmBuckets]
	if b.slot != slot {
		b.slot, b.peak = slot, 0
	}
	b.peak = max(b.peak, burst)
	p.lastDemand = now
	p.mu.Unlock()
	// No wake-up of run: take, which follows every demand, opens what
	// the new target asks for.
}

// target is how many ready connections the pool wants at now. p.mu held.
func (p *warmPool) target(now time.Time) int {
	if now.Sub(p.lastDemand) > p.tm.idle {
		return 0
	}
	slot := now.UnixNano() / int64(p.tm.peakMemory/warmBuckets)
	n := 1
	for _, b := range p.peaks {
		if slot-b.slot < warmBuckets {
			n = max(n, b.peak)
		}
	}
	return min(n, p.max)
}

func (p *warmPool) lifetime() time.Duration {
	if p.lenient {
		return p.tm.lenientLifetime
	}
	return p.tm.lifetime
}

// take returns a ready connection that is still open, or nil. It opens
// no replacement: refill, called once the Accept is out, does, so that
// the hand-off to the goroutine opening it is not on the visitor's path.
func (p *warmPool) take() *warmConn {
	if p.max <= 0 {
		return nil
	}
	for {
		now := time.Now()
		p.mu.Lock()
		var w *warmConn
		for len(p.ready) > 0 && w == nil {
			w, p.ready = p.ready[0], p.ready[1:]
			if now.Sub(w.ready) >= p.lifetime() {
				w.conn.Close()
				w = nil
			}
		}
		p.mu.Unlock()
		if w == nil {
			return nil
		}
		if len(w.fr.buffered()) == 0 && peekAlive(w.conn) {
			return w
		}
		w.conn.Close()
	}
}

// refill opens the connections the pool lacks after a take, itself, so
// that a visitor does not also cost a wake-up of run.
func (p *warmPool) refill() {
	if p.max <= 0 {
		return
	}
	p.mu.Lock()
	retry := p.fill(time.Now())
	wake := !retry.IsZero() && (p.wakeAt.IsZero() || retry.Before(p.wakeAt))
	p.mu.Unlock()
	if wake {
		p.poke()
	}
}

// run keeps the pool at its target until the session ends.
func (p *warmPool) run() {
	defer p.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := p.tick(time.Now())
		if next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(time.Until(next))
		}
		select {
		case <-p.ctx.Done():
			p.mu.Lock()
			for _, w := range p.ready {
				w.conn.Close()
			}
			if p.probe != nil {
				p.probe.conn.Close()
			}
			p.ready, p.probe = nil, nil
			p.mu.Unlock()
			return
		case <-p.kick:
		case <-timer.C:
		}
	}
}

// lead is how long before the end of its lifetime a ready connection is
// replaced. p.mu held.
func (p *warmPool) lead() time.Duration {
	return min(max(2*p.setup+20*time.Millisecond, 50*time.Millisecond), p.lifetime()/4)
}

// tick retires old connections, opens new ones, and returns when it next
// needs to run (zero: only when kicked).
func (p *warmPool) tick(now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var next time.Time
	soon := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	life := p.lifetime()
	lead := p.lead()
	keep := p.ready[:0]
	for _, w := range p.ready {
		age := now.Sub(w.ready)
		switch {
		case age >= life && p.t.auth != nil && !p.probed && !p.lenient:
			p.probed, p.probe = true, w
			soon(w.ready.Add(p.tm.probeAt))
			continue
		case age >= life:
			w.conn.Close()
			continue
		case age >= life-lead:
			w.replaced = true
		default:
			soon(w.ready.Add(life - lead))
		}
		soon(w.ready.Add(life))
		keep = append(keep, w)
	}
	clear(p.ready[len(keep):])
	p.ready = keep
	if w := p.probe; w != nil {
		if now.Sub(w.ready) >= p.tm.probeAt {
			p.probe = nil
			if len(w.fr.buffered()) == 0 && peekAlive(w.conn) {
				p.lenient = true
				p.t.log.Debug("server keeps ready connections open; keeping them longer", "for", p.tm.lenientLifetime)
				w.ready = now.Add(-p.tm.probeAt + p.tm.lenientLifetime/2)
				p.ready = append([]*warmConn{w}, p.ready...)
				soon(now)
			} else {
				w.conn.Close()
			}
		} else {
			soon(w.ready.Add(p.tm.probeAt))
		}
	}

	target := p.target(now)
	have := p.have()
	// Fewer wanted: close the newest spare ones (the oldest go first to
	// visitors anyway).
	for i := len(p.ready) - 1; i >= 0 && have > target; i-- {
		if !p.ready[i].replaced {
			p.ready[i].conn.Close()
			p.ready = append(p.ready[:i], p.ready[i+1:]...)
			have--
		}
	}
	if retry := p.fill(now); !retry.IsZero() {
		soon(retry)
	}
	if target > 0 {
		// Notice when demand has gone; the pool sleeps once it has.
		soon(now.Add(p.tm.peakMemory / warmBuckets))
	}
	p.wakeAt = next
	return next
}

// have counts the ready connections that are not being replaced, and
// those being opened. p.mu held.
func (p *warmPool) have() int {
	n := p.opening
	for _, w := range p.ready {
		if !w.replaced {
			n++
		}
	}
	return n
}

// fill opens connections until the pool has its target at now. While
// opens are backing off after failures, it opens none and returns when
// to try again. p.mu held.
func (p *warmPool) fill(now time.Time) (retry time.Time) {
	target := p.target(now)
	have := p.have()
	if have >= target {
		return time.Time{}
	}
	if now.Before(p.retryAt) {
		return p.retryAt
	}
	for ; have < target; have++ {
		p.opening++
		p.wg.Add(1)
		p.t.work.do(p.open)
	}
	return time.Time{}
}

// open connects one ready accept connection and adds it to the pool.
func (p *warmPool) open() {
	defer p.wg.Done()
	t0 := time.Now()
	conn, fr, err := p.t.connect(p.ctx)
	if err == nil && p.t.auth != nil {
		err = p.t.handshake(conn, fr, nil)
		if err != nil {
			conn.Close()
		}
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opening--
	if err != nil {
		if p.ctx.Err() == nil {
			p.failed++
			wait := min(time.Duration(1<<min(p.failed, 5))*100*time.Millisecond, 3*time.Second)
			p.retryAt = now.Add(wait)
			p.t.log.Debug("could not open a ready accept connection", "err", err, "retry_in", wait)
		}
		p.poke()
		return
	}
	p.failed = 0
	if p.ctx.Err() != nil {
		conn.Close()
		return
	}
	p.opened++
	p.setup = now.Sub(t0)
	p.ready = append(p.ready, &warmConn{conn: conn, fr: fr, ready: now})
	// run needs to know only when its timer would fire too late for
	// this connection, which is rare: older ones are due first.
	if due := now.Add(p.lifetime() - p.lead()); p.wakeAt.IsZero() || due.Before(p.wakeAt) {
		p.poke()
	}
}

// acceptOn writes the Accept for id on a ready connection. It needs no
// deadline: nothing was written on the connection but an Authenticate,
// so its send buffer has room and the write never waits.
func (w *warmConn) acceptOn(id uuid.UUID) error {
	var buf [64]byte
	_, err := w.conn.Write(appendClientFrame(buf[:0], ClientMessage{Kind: ClientAccept, ID: id}))
	return err
}
