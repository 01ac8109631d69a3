package tunnel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/google/uuid"
)

// heartbeatTimeout is how long the client waits for any frame from the
// server before it takes the control connection for dead and replaces it.
// Servers send a heartbeat every 500 ms (HeartbeatInterval); ten missed
// heartbeats leave room for a busy server or a slow link while still
// noticing a frozen server, a sleeping laptop or a changed network within
// seconds instead of never (bore's client waits for ever).
const heartbeatTimeout = 5 * time.Second

// keepAlive is the TCP keepalive period on every connection to the server.
const keepAlive = 15 * time.Second

// Reconnection backoff: about 1 s, doubling, up to 30 s, with jitter so
// many clients of a restarted server do not all return at once.
const (
	backoffInitial = time.Second
	backoffMax     = 30 * time.Second
	backoffJitter  = 0.3
	// samePortTries is how many times a reconnecting client asks for its
	// old port while the server still says it is in use (the server may
	// not yet have noticed that the old connection died) before it takes
	// any port.
	samePortTries = 5
	// behaveAfter is how long a session must last, unless it forwarded a
	// visitor first, before the backoff starts again from backoffInitial.
	// A server that answers Hello and then breaks the protocol is thus
	// not retried every second for ever.
	behaveAfter = 30 * time.Second
	// misbehaveStrikes is how many sessions in a row that ended in a
	// protocol violation, without having behaved, make the client retry at
	// backoffMax and report the server as misbehaving.
	misbehaveStrikes = 2
)

// Visitor limits, per tunnel: a server (or anyone on the path of the
// unencrypted control connection) can announce any number of visitors,
// and each costs an accept connection to the server and a connection to
// the local service.
const (
	// DefaultMaxConns caps visitor connections forwarded or being set up
	// at once. Each holds two sockets in the client.
	DefaultMaxConns = 8192
	// DefaultMaxSetups caps visitor setups in flight: accept connections
	// being opened and local dials not yet answered.
	DefaultMaxSetups = 256
)

// Client errors that callers branch on.
var (
	// ErrAuthRequired: the server asked for a secret and none was given.
	ErrAuthRequired = errors.New("server requires authentication, but no client secret was provided")
	// ErrNoAuthExpected: a secret was given but the server asked for none.
	ErrNoAuthExpected = errors.New("expected authentication challenge, but no secret was required")
	// ErrServerClosed: the server closed the control connection.
	ErrServerClosed = errors.New("server closed the connection")
	// ErrNoHeartbeat: the server sent nothing for too long.
	ErrNoHeartbeat = fmt.Errorf("no heartbeat from the server for %v", heartbeatTimeout)
)

// ServerError is an Error message sent by the server, such as "invalid
// secret" or "port already in use".
type ServerError struct {
	Text string
}

// Error returns bore's wording: "server error: <text>".
func (e *ServerError) Error() string { return "server error: " + e.Text }

// Tunnel is one client tunnel: it shares a local port through a server,
// reconnecting by itself unless told not to. Create it with NewTunnel and
// run it with Run.
type Tunnel struct {
	cfg       ClientConfig
	host      string // server host, without port
	ctrlAddr  string // host:control port
	localAddr string
	log       *slog.Logger
	dialer    Dialer // to the server
	auth      *authenticator
	// localDialer opens connections to the local service.
	localDialer Dialer

	mu     sync.Mutex
	status Status

	counters counters
	// onChange, when set, is called after every status change; state is
	// false when only counters moved. It must not block.
	onChange func(state bool)
	dirty    atomic.Bool

	maxConns  int64
	maxSetups int64
	maxWarm   int
	setups    atomic.Int64 // visitor setups in flight
	open      atomic.Int64 // visitor connections forwarded now
	refused   atomic.Int64 // Connection messages not accepted
	admitted  atomic.Int64 // Connection messages accepted
	warmHits  atomic.Int64 // visitors accepted on a ready connection
	refusals  logLimiter
	pool      atomic.Pointer[warmPool] // the current session's, for tests
	work      *workers                 // runs visitors and ready-connection opens

	// Timers, replaceable by tests in this package.
	heartbeatTimeout time.Duration
	backoffInitial   time.Duration
	backoffMax       time.Duration
	behaveAfter      time.Duration
	warm             warmTimers
}

// NewTunnel checks cfg and returns a tunnel ready to Run.
func NewTunnel(cfg ClientConfig) (*Tunnel, error) {
	host, port, err := splitServer(cfg.Server, cfg.ControlPort)
	if err != nil {
		return nil, err
	}
	if cfg.LocalPort == 0 {
		return nil, errors.New("local port must be a number from 1 to 65535")
	}
	if cfg.LocalHost == "" {
		cfg.LocalHost = "localhost"
	}
	t := &Tunnel{
		cfg:       cfg,
		host:      host,
		ctrlAddr:  joinHostPort(host, port),
		localAddr: joinHostPort(cfg.LocalHost, cfg.LocalPort),
		log:       orDiscard(cfg.Logger),
		dialer:    cfg.Dialer,

		maxConns:  int64(cmp.Or(cfg.MaxConns, DefaultMaxConns)),
		maxSetups: int64(cmp.Or(cfg.MaxSetups, DefaultMaxSetups)),
		maxWarm:   cmp.Or(cfg.WarmConns, DefaultWarmConns),

		heartbeatTimeout: heartbeatTimeout,
		backoffInitial:   backoffInitial,
		backoffMax:       backoffMax,
		behaveAfter:      behaveAfter,
		warm:             defaultWarmTimers,
	}
	if cfg.MaxConns < 0 || cfg.MaxSetups < 0 {
		return nil, errors.New("the visitor limits must be positive numbers")
	}
	t.localDialer = t.dialer
	if t.dialer == nil {
		t.dialer = &net.Dialer{KeepAlive: keepAlive}
		// The local service is usually on this machine: no keepalive,
		// four system calls fewer per visitor.
		t.localDialer = &net.Dialer{KeepAlive: -1}
	}
	if cfg.Secret != "" {
		t.auth = newAuthenticator(cfg.Secret)
	}
	t.status = Status{
		Server:        host,
		ControlPort:   port,
		LocalHost:     cfg.LocalHost,
		LocalPort:     cfg.LocalPort,
		RequestedPort: cfg.RemotePort,
		State:         StateConnecting,
		Since:         time.Now(),
	}
	t.counters.onBytes = t.countersMoved
	return t, nil
}

// splitServer takes bore's --to value, a host with an optional :port, and
// returns the host and control port.
func splitServer(server string, controlPort uint16) (string, uint16, error) {
	if server == "" {
		return "", 0, errors.New("no server given: pass --to HOST (or set BORE_SERVER)")
	}
	if controlPort == 0 {
		controlPort = DefaultControlPort
	}
	host, p, err := net.SplitHostPort(server)
	if err != nil {
		// No port: a bare host name or IP address (IPv6 literals too).
		return trimBrackets(server), controlPort, nil
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("invalid control port %q in %q: use HOST or HOST:PORT", p, server)
	}
	if host == "" {
		return "", 0, fmt.Errorf("no host in %q", server)
	}
	return host, uint16(n), nil
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

// Status returns the tunnel's current state and counters.
func (t *Tunnel) Status() Status {
	t.mu.Lock()
	s := t.status
	t.mu.Unlock()
	s.Active = t.counters.active.Load()
	s.Total = t.counters.total.Load()
	s.BytesIn = t.counters.bytesIn.Load()
	s.BytesOut = t.counters.bytesOut.Load()
	return s
}

// Activity returns a number that moves whenever the tunnel does work:
// visitors announced, ready connections opened, state changes. A caller
// sampling it can tell when the tunnel has gone quiet.
func (t *Tunnel) Activity() int64 {
	n := t.admitted.Load() + t.refused.Load()
	if p := t.pool.Load(); p != nil {
		p.mu.Lock()
		n += p.opened
		p.mu.Unlock()
	}
	t.mu.Lock()
	n += int64(t.status.State)<<40 + int64(t.status.Attempt)<<48
	t.mu.Unlock()
	return n
}

func (t *Tunnel) update(f func(*Status)) {
	t.mu.Lock()
	f(&t.status)
	t.mu.Unlock()
	if t.onChange != nil {
		t.onChange(true)
	}
}

func (t *Tunnel) setState(st State, err error, next time.Time, attempt int) {
	t.update(func(s *Status) {
		if s.State != st {
			s.Since = time.Now()
		}
		s.State, s.Err, s.Reason, s.NextAttempt, s.Attempt = st, err, reasonText(err), next, attempt
	})
}

func (t *Tunnel) countersMoved() {
	if t.onChange != nil && t.dirty.CompareAndSwap(false, true) {
		t.onChange(false)
	}
}

// Run keeps the tunnel open until ctx ends (it returns nil then). It
// returns an error for a permanent failure, such as a wrong secret or a
// port the server refuses. With NoReconnect it also returns when the
// control connection ends: ErrServerClosed when the server closed it.
// Visitor connections are closed before Run returns; those being
// forwarded with a reset towards both the server and the local service,
// so that a transfer cut short does not look complete.
func (t *Tunnel) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var visitors sync.WaitGroup
	defer visitors.Wait()
	defer cancel()
	t.work = &workers{ctx: ctx, wg: &visitors, tasks: make(chan func())}

	bo := &backoff.ExponentialBackOff{
		InitialInterval:     t.backoffInitial,
		RandomizationFactor: backoffJitter,
		Multiplier:          2,
		MaxInterval:         t.backoffMax,
	}
	bo.Reset()
	want := t.cfg.RemotePort
	everOpen := false
	inUse := 0
	attempt := 0
	strikes := 0 // sessions in a row that broke the protocol before behaving
	for {
		sess, err := t.dial(ctx, want)
		behaved := false
		if err == nil {
			attempt, inUse = 0, 0
			prev := t.Status().RemotePort
			t.update(func(s *Status) {
				s.State, s.Since, s.Err, s.Reason, s.Attempt = StateOpen, time.Now(), nil, "", 0
				s.NextAttempt = time.Time{}
				s.RemotePort = sess.port
			})
			t.log.Info("connected to server", "remote_port", sess.port)
			t.log.Info("listening at " + joinHostPort(t.host, sess.port))
			if everOpen && prev != sess.port {
				t.log.Warn("public address changed", "old", joinHostPort(t.host, prev), "new", joinHostPort(t.host, sess.port))
			}
			everOpen = true
			want = sess.port
			lived := time.AfterFunc(t.behaveAfter, func() { t.behaved(sess) })
			err = t.serve(ctx, sess, &visitors)
			lived.Stop()
			behaved = sess.behaved.Load()
		}
		if ctx.Err() != nil {
			t.setState(StateStopped, nil, time.Time{}, 0)
			return nil
		}
		if behaved {
			// Only a session that lived and behaved earns a fresh
			// backoff: a server that answers Hello and then breaks the
			// protocol must not keep the client in a fast loop.
			bo.Reset()
			strikes = 0
		}
		if t.cfg.NoReconnect || t.permanent(err, everOpen) {
			if errors.Is(err, ErrServerClosed) && t.cfg.NoReconnect {
				t.setState(StateStopped, err, time.Time{}, 0)
				return err
			}
			t.setState(StateFailed, err, time.Time{}, attempt)
			return err
		}
		var se *ServerError
		if errors.As(err, &se) && se.Text == errTextPortInUse && want != 0 && want != t.cfg.RemotePort {
			// Our old port is still held, most likely by our own dead
			// connection the server has not noticed yet. Ask for it a few
			// times, then take any port.
			if inUse++; inUse >= samePortTries {
				want = 0
			}
		}
		attempt++
		wait := bo.NextBackOff()
		reason := reasonText(err)
		if !behaved && isViolation(err) {
			strikes++
		} else if !behaved {
			strikes = 0
		}
		misbehaving := strikes >= misbehaveStrikes
		if misbehaving {
			wait = t.backoffMax
			reason = "the server is misbehaving (" + reason + "); retrying every " + t.backoffMax.String()
		}
		t.update(func(s *Status) {
			if s.State != StateReconnecting {
				s.Since = time.Now()
			}
			s.State, s.Err, s.Reason, s.NextAttempt, s.Attempt = StateReconnecting, err, reason, time.Now().Add(wait), attempt
			s.Misbehaving = misbehaving
		})
		if misbehaving {
			t.log.Warn("the server keeps breaking the protocol; retrying at the slowest pace", "err", err, "in", wait.Round(100*time.Millisecond))
		} else {
			t.log.Warn("connection lost; reconnecting", "err", err, "in", wait.Round(100*time.Millisecond))
		}
		select {
		case <-ctx.Done():
			t.setState(StateStopped, nil, time.Time{}, 0)
			return nil
		case <-time.After(wait):
		}
	}
}

// isViolation reports errors that mean the server broke bore's protocol:
// a frame that does not parse, one too long, or a reply out of place.
func isViolation(err error) bool {
	return errors.Is(err, ErrParse) || errors.Is(err, ErrFrameTooLong) || errors.Is(err, errUnexpectedFrame)
}

// permanent reports errors that retrying will not fix.
func (t *Tunnel) permanent(err error, everOpen bool) bool {
	if errors.Is(err, ErrAuthRequired) || errors.Is(err, ErrNoAuthExpected) {
		return true
	}
	var se *ServerError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Text {
	case errTextInvalidSecret, errTextSecretRequired, errTextPortRange, errTextPermission:
		return true
	case errTextPortInUse:
		// A port the user asked for is taken: say so. When reconnecting,
		// the holder is probably our own dead connection: retry.
		return !everOpen
	}
	return false
}

// errUnexpectedFrame: the server's reply to Hello was another message.
var errUnexpectedFrame = errors.New(errTextUnexpectedFrame)

// session is one control connection after a successful Hello.
type session struct {
	conn    net.Conn
	fr      *frameReader
	port    uint16
	behaved atomic.Bool // it lived behaveAfter or forwarded a visitor
}

// behaved marks s as a session that lived and behaved: the next reconnect
// starts from the initial backoff, and the server is no longer reported as
// misbehaving.
func (t *Tunnel) behaved(s *session) {
	if s.behaved.CompareAndSwap(false, true) {
		t.mu.Lock()
		was := t.status.Misbehaving
		t.mu.Unlock()
		if was {
			t.update(func(st *Status) { st.Misbehaving = false })
		}
	}
}

// dial opens a control connection, authenticates, and asks for port.
func (t *Tunnel) dial(ctx context.Context, port uint16) (*session, error) {
	conn, fr, err := t.connectControl(ctx)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	hello := encodeFrame(ClientMessage{Kind: ClientHello, Port: port})
	if err := t.handshake(conn, fr, hello); err != nil {
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(NetworkTimeout))
	msg, err := fr.readServer()
	if err != nil {
		return nil, readErr(err)
	}
	switch msg.Kind {
	case ServerHello:
	case ServerErr:
		return nil, &ServerError{Text: msg.Text}
	case ServerChallenge:
		return nil, ErrAuthRequired
	default:
		return nil, errUnexpectedFrame
	}
	ok = true
	return &session{conn: conn, fr: fr, port: msg.Port}, nil
}

// connect dials the server's control port with bore's 3 s timeout.
func (t *Tunnel) connect(ctx context.Context) (net.Conn, *frameReader, error) {
	dctx, cancel := context.WithTimeout(ctx, NetworkTimeout)
	defer cancel()
	conn, err := t.dialer.DialContext(dctx, "tcp", t.ctrlAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("could not connect to %s: %w", t.ctrlAddr, err)
	}
	return conn, newFrameReader(conn), nil
}

// handshake answers the server's challenge when a secret is set, then sends
// first (a Hello or an Accept) in the same write, as bore does.
func (t *Tunnel) handshake(conn net.Conn, fr *frameReader, first []byte) error {
	conn.SetDeadline(time.Now().Add(NetworkTimeout))
	defer conn.SetDeadline(time.Time{})
	out := first
	if t.auth != nil {
		msg, err := fr.readServer()
		switch {
		case errors.Is(err, io.EOF):
			return ErrNoAuthExpected
		case err != nil:
			return readErr(err)
		case msg.Kind == ServerErr:
			return &ServerError{Text: msg.Text}
		case msg.Kind != ServerChallenge:
			return ErrNoAuthExpected
		}
		auth := encodeFrame(ClientMessage{Kind: ClientAuthenticate, Answer: t.auth.answer(msg.ID)})
		out = append(auth, first...)
	}
	if _, err := conn.Write(out); err != nil {
		return fmt.Errorf("send to server: %w", err)
	}
	return nil
}

// readErr words a read error on the server connection as bore does.
func readErr(err error) error {
	switch {
	case isTimeout(err):
		return errors.New(errTextTimeout)
	case errors.Is(err, io.EOF):
		return errors.New("unexpected EOF")
	}
	return err
}

// serve reads the control connection until it ends, starting a visitor
// connection for each Connection message.
func (t *Tunnel) serve(ctx context.Context, s *session, visitors *sync.WaitGroup) error {
	sctx, cancel := context.WithCancel(ctx)
	pool := newWarmPool(sctx, t)
	t.pool.Store(pool)
	defer pool.wait()
	defer cancel()
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	defer s.conn.Close()
	setUserTimeout(s.conn, t.heartbeatTimeout)
	for {
		if !s.fr.complete() {
			// Only a read that waits needs the deadline and the quick
			// ACK: the heartbeat behind each Connection frame is
			// usually buffered already, and costs no system call.
			s.conn.SetReadDeadline(time.Now().Add(t.heartbeatTimeout))
			quickAck(s.conn)
		}
		msg, err := s.fr.readServer()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, io.EOF):
				return ErrServerClosed
			case isTimeout(err):
				return ErrNoHeartbeat
			}
			return err
		}
		switch msg.Kind {
		case ServerHeartbeat:
		case ServerConnection:
			if !t.admit() {
				continue
			}
			pool.demand(time.Now())
			// On a ready connection the Accept leaves from this loop, a
			// goroutine hand-off sooner; the local dial and the copy run
			// in the visitor's own goroutine.
			w := pool.take()
			if w != nil && w.acceptOn(msg.ID) != nil {
				w.conn.Close()
				w = nil
			}
			t.work.do(func() { t.visit(ctx, s, w, msg.ID) })
			pool.refill()
		case ServerErr:
			t.log.Error("server error", "err", msg.Text)
		case ServerHello:
			t.log.Warn("unexpected hello")
		case ServerChallenge:
			t.log.Warn("unexpected challenge")
		}
	}
}

// admit reserves a setup slot for a visitor the server announced, or
// refuses it when the tunnel's limits are reached. A refused visitor is
// never accepted; the server closes it after its pending timeout. Only the
// serve loop calls it, so the checks and the reservation do not race.
func (t *Tunnel) admit() bool {
	setups := t.setups.Load()
	open := t.open.Load()
	if setups < t.maxSetups && setups+open < t.maxConns {
		t.setups.Add(1)
		t.admitted.Add(1)
		return true
	}
	t.refused.Add(1)
	if ok, skipped := t.refusals.allow("visitor", time.Now()); ok {
		args := []any{"setups_in_flight", setups, "max_setups", t.maxSetups, "open", open, "max_conns", t.maxConns}
		if skipped > 0 {
			args = append(args, "refused_since_last", skipped)
		}
		t.log.Warn("too many visitors at once; not accepting this one", args...)
	}
	return false
}

// visit serves one visitor whose setup slot admit reserved. The Accept
// has gone out on w, a ready connection, or, when w is nil, goes out on a
// new one; only then is the local service dialed, as bore does, so that
// announcements alone cannot make the client open local connections; then
// it joins the two.
func (t *Tunnel) visit(ctx context.Context, s *session, w *warmConn, id uuid.UUID) {
	setupDone := false
	done := func() {
		if !setupDone {
			setupDone = true
			t.setups.Add(-1)
		}
	}
	defer done()
	var remote net.Conn
	var leftover []byte
	if w != nil {
		remote, leftover = w.conn, w.fr.buffered()
		t.warmHits.Add(1)
	}
	if remote == nil {
		conn, fr, err := t.connect(ctx)
		if err == nil {
			err = t.handshake(conn, fr, encodeFrame(ClientMessage{Kind: ClientAccept, ID: id}))
			if err != nil {
				conn.Close()
			}
		}
		if err != nil {
			t.log.Warn("could not accept visitor", "id", id, "err", err)
			return
		}
		remote, leftover = conn, fr.buffered()
	}
	lctx, cancel := context.WithTimeout(ctx, localDialTimeout)
	local, lerr := t.localDialer.DialContext(lctx, "tcp", t.localAddr)
	cancel()
	if lerr != nil && ctx.Err() != nil {
		// The tunnel is stopping and cut the dial short: the local
		// service did nothing wrong, so nothing is reported.
		remote.Close()
		return
	}
	if lerr != nil {
		// Record the failure before the visitor sees its connection close,
		// so that whoever watches the status learns it no later than the
		// visitor does.
		t.localFailed(lerr)
		remote.Close()
		return
	}
	t.localOK()
	t.behaved(s)
	if t.cfg.WrapLocal != nil {
		local = t.cfg.WrapLocal.Wrap(local)
	}
	// Stopping the tunnel cuts the transfer short, so both peers get a
	// reset, as for any abort (pipe): a visitor in the middle of a
	// download must not take the stop for its complete end.
	stop := context.AfterFunc(ctx, func() {
		abort(remote)
		abort(local)
	})
	defer stop()
	if len(leftover) > 0 {
		if _, err := local.Write(leftover); err != nil {
			abort(remote)
			abort(local)
			return
		}
	}
	debug := t.log.Enabled(ctx, slog.LevelDebug)
	if debug {
		t.log.Debug("new connection", "id", id)
	}
	// The connection counts as open from here instead of as a setup.
	t.open.Add(1)
	done()
	join(remote, local, &t.counters)
	t.open.Add(-1)
	if debug {
		t.log.Debug("connection exited", "id", id)
	}
}

// localDialTimeout bounds the dial to the local service. bore gives it
// NetworkTimeout (3 s); a busy machine can take longer than that to run the
// goroutine that sees a loopback connection complete, and the visitor then
// got a reset although the local service had accepted it. A service that
// does not answer at all still turns the visitor away within seconds.
const localDialTimeout = 10 * time.Second

// localFailed records that the local service could not be reached. It is
// logged and reported once until a visitor gets through again, not once
// per visitor.
func (t *Tunnel) localFailed(err error) {
	msg := "nothing is listening on " + t.localAddr
	if !errors.Is(err, syscall.ECONNREFUSED) {
		msg = fmt.Sprintf("could not reach %s: %v", t.localAddr, unwrapOp(err))
	}
	t.mu.Lock()
	same := t.status.LocalError == msg
	t.mu.Unlock()
	if same {
		return
	}
	t.log.Warn(msg + "; visitors are being turned away")
	t.update(func(s *Status) { s.LocalError = msg })
}

func (t *Tunnel) localOK() {
	t.mu.Lock()
	had := t.status.LocalError != ""
	t.mu.Unlock()
	if had {
		t.log.Info("local service reachable again", "addr", t.localAddr)
		t.update(func(s *Status) { s.LocalError = "" })
	}
}

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

var errManagerClosed = errors.New("tunnel manager is closed")

// workerIdle is how long a worker waits for another task before it ends.
const workerIdle = 2 * time.Second

// workers runs a tunnel's visitors and ready-connection opens on
// goroutines that serve one task after another. A new goroutine starts
// with a small stack, and a visitor's setup (the dials, the copy loop)
// grows it several times, copying it each time: in a stream of setups
// that copying cost the client more instructions than any other part of
// the setup. A worker keeps its grown stack for its next task, and ends
// after workerIdle without one, or when ctx ends.
type workers struct {
	ctx   context.Context
	wg    *sync.WaitGroup // counts the workers
	tasks chan func()     // unbuffered: a send succeeds only to a waiting worker
	idle  time.Duration   // workerIdle unless a test says otherwise
	// started and waiting count workers started and workers waiting for
	// a task, for tests.
	started, waiting atomic.Int64
}

// do runs f on a waiting worker, or on a new one.
func (w *workers) do(f func()) {
	if w == nil {
		go f()
		return
	}
	select {
	case w.tasks <- f:
	default:
		w.wg.Add(1)
		w.started.Add(1)
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	defer w.wg.Done()
	wait := cmp.Or(w.idle, workerIdle)
	idle := time.NewTimer(wait)
	defer idle.Stop()
	for {
		f()
		f = nil
		idle.Reset(wait)
		w.waiting.Add(1)
		select {
		case f = <-w.tasks:
		case <-idle.C:
		case <-w.ctx.Done():
		}
		w.waiting.Add(-1)
		if f == nil {
			return
		}
	}
}
