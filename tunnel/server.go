package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// Server defaults, used when the ServerConfig field is zero.
const (
	// DefaultMinPort and DefaultMaxPort are bore's default port range.
	DefaultMinPort = 1024
	DefaultMaxPort = 65535
	// DefaultMaxPendingPerTunnel caps visitors waiting for their Accept on
	// one tunnel. A flood of visitors the client never accepts then holds
	// a bounded number of sockets; legitimate bursts are claimed within a
	// round trip and stay far below it.
	DefaultMaxPendingPerTunnel = 2048
	// DefaultMaxPending caps visitors waiting for their Accept across all
	// tunnels, so one address holding many tunnels cannot make the server
	// hold an unbounded number of sockets.
	DefaultMaxPending = 16384
	// DefaultMaxPendingPerIP is the share of DefaultMaxPending that the
	// tunnels of one client address (one /64 for IPv6) may fill, a
	// quarter: an address whose client never accepts can then hold up its
	// own visitors but not everyone else's. When only MaxPending is set,
	// the share is a quarter of it.
	DefaultMaxPendingPerIP = DefaultMaxPending / 4
	// DefaultMaxHandshakes caps connections still in their handshake. Each
	// costs a goroutine and a small buffer for at most NetworkTimeout, so
	// the cap is high: a few thousand idle attackers must not lock out a
	// legitimate client.
	DefaultMaxHandshakes = 8192
	// DefaultMaxTunnelsPerIP caps the tunnels one client address may hold.
	DefaultMaxTunnelsPerIP = 64
	// DefaultClientTimeout is how long a tunnel's control connection may
	// leave heartbeats unacknowledged before the client is taken for gone
	// and its port is freed (bore relies on the kernel: ~15 minutes).
	DefaultClientTimeout = 15 * time.Second
)

// ReadyTimeout is how long the server waits for the Hello or Accept of a
// connection that has authenticated (bore: 3 s, like every other wait),
// so that clients can keep accept connections ready for their visitors.
const ReadyTimeout = 60 * time.Second

// randomPortTries is how many random ports a Hello(0) tries before giving
// up, as in bore: with half of a range taken, 150 tries all fail with
// probability 2^-150.
const randomPortTries = 150

// ServerConfig configures a Server. The zero value is bore's default
// server: ports 1024-65535, no secret, tunnels on every address.
type ServerConfig struct {
	// MinPort and MaxPort bound the public ports handed out, inclusive.
	// Both zero means DefaultMinPort to DefaultMaxPort.
	MinPort, MaxPort uint16
	// Secret, when not empty, is required of every connection through an
	// HMAC challenge. It is never logged.
	Secret string
	// BindTunnels is the IP address tunnel listeners bind; "" means every
	// IPv4 address (0.0.0.0), as bore does.
	BindTunnels string
	// MaxPendingPerTunnel caps visitors waiting to be accepted per tunnel.
	MaxPendingPerTunnel int
	// MaxPending caps visitors waiting to be accepted on the whole server.
	MaxPending int
	// MaxPendingPerIP caps visitors waiting to be accepted on the tunnels
	// of one client address, each IPv6 /64 counting as one address. Zero
	// means a quarter of MaxPending.
	MaxPendingPerIP int
	// MaxHandshakes caps connections in their handshake at once.
	MaxHandshakes int
	// MaxTunnelsPerIP caps tunnels per client IP address.
	MaxTunnelsPerIP int
	// ClientTimeout bounds how long a vanished client keeps its port.
	ClientTimeout time.Duration
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// ServerStats is a snapshot of a server's counters.
type ServerStats struct {
	// Tunnels is the number of open tunnels (control connections).
	Tunnels int64
	// Pending is the number of visitors waiting for their Accept.
	Pending int64
	// Active is the number of visitor connections being forwarded.
	Active int64
	// Visitors is the number of visitor connections forwarded so far.
	Visitors int64
	// BytesIn counts bytes from visitors to clients, BytesOut the reverse.
	BytesIn, BytesOut int64
	// Refused counts refused work by reason; a reason that never happened
	// may be missing.
	Refused map[Refusal]int64
	// Unused counts connections their client closed before sending a
	// first frame (after the challenge, with a secret): ready accept
	// connections that a client retired without a visitor for them. They
	// are not refusals. Without a secret, a connection that connects and
	// closes without a byte, such as a port check, counts here too.
	Unused int64
}

// Server hands out public ports to bore clients and forwards visitors.
type Server struct {
	cfg  ServerConfig
	log  *slog.Logger
	auth *authenticator // nil when no secret is set

	handshakes chan struct{} // semaphore of connections in handshake

	mu      sync.Mutex
	pending map[uuid.UUID]*pendingConn
	perIP   map[string]int // tunnels by client address key
	pendIP  map[string]int // pending visitors by client address key

	tunnels atomic.Int64
	nPend   atomic.Int64
	unused  atomic.Int64 // closed by the client before a first frame
	traffic counters
	refused sync.Map // Refusal -> *atomic.Int64
	warns   logLimiter

	// Timers, replaceable by tests in this package.
	clock            clock
	handshakeTimeout time.Duration
	readyTimeout     time.Duration
	heartbeat        time.Duration
	pendingTimeout   time.Duration
}

// pendingConn is a visitor waiting for its Accept.
type pendingConn struct {
	conn   net.Conn
	tunnel *atomic.Int64 // the owning tunnel's pending count
	owner  string        // the owning tunnel's client address key
	stop   func() bool   // stops the expiry timer
}

// NewServer checks cfg and returns a Server. It fails for an empty port
// range.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.MinPort == 0 && cfg.MaxPort == 0 {
		cfg.MinPort, cfg.MaxPort = DefaultMinPort, DefaultMaxPort
	}
	if cfg.MinPort > cfg.MaxPort {
		return nil, fmt.Errorf("port range is empty: --min-port %d is above --max-port %d", cfg.MinPort, cfg.MaxPort)
	}
	if cfg.BindTunnels == "" {
		cfg.BindTunnels = "0.0.0.0"
	}
	if net.ParseIP(cfg.BindTunnels) == nil {
		return nil, fmt.Errorf("tunnel bind address %q is not an IP address", cfg.BindTunnels)
	}
	if cfg.MaxPendingPerTunnel <= 0 {
		cfg.MaxPendingPerTunnel = DefaultMaxPendingPerTunnel
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.MaxPendingPerIP <= 0 {
		cfg.MaxPendingPerIP = max(1, cfg.MaxPending/4)
	}
	if cfg.MaxHandshakes <= 0 {
		cfg.MaxHandshakes = DefaultMaxHandshakes
	}
	if cfg.MaxTunnelsPerIP <= 0 {
		cfg.MaxTunnelsPerIP = DefaultMaxTunnelsPerIP
	}
	if cfg.ClientTimeout <= 0 {
		cfg.ClientTimeout = DefaultClientTimeout
	}
	s := &Server{
		cfg:              cfg,
		log:              orDiscard(cfg.Logger),
		handshakes:       make(chan struct{}, cfg.MaxHandshakes),
		pending:          make(map[uuid.UUID]*pendingConn),
		perIP:            make(map[string]int),
		pendIP:           make(map[string]int),
		clock:            realClock{},
		handshakeTimeout: NetworkTimeout,
		readyTimeout:     ReadyTimeout,
		heartbeat:        HeartbeatInterval,
		pendingTimeout:   PendingTimeout,
	}
	if cfg.Secret != "" {
		s.auth = newAuthenticator(cfg.Secret)
	}
	return s, nil
}

// ListenAndServe listens on addr (host:port of the control port; see
// Listen for what 0.0.0.0 and :: mean) and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := Listen(ctx, addr)
	if err != nil {
		return fmt.Errorf("listen on control port: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts control-port connections on ln until ctx ends, then closes
// ln and every connection it serves, waits for their goroutines and
// returns nil. Visitors being forwarded and their accept connections are
// closed with a reset, so that a transfer cut short does not look
// complete. One bad connection never stops it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info("server listening", "addr", ln.Addr().String(), "ip", ListenerFamilies(ln),
		"tunnels", s.cfg.BindTunnels, "tunnels_ip", tunnelFamilies(s.cfg.BindTunnels))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var wg sync.WaitGroup
	defer s.closePending()
	defer wg.Wait()
	work := &workers{ctx: ctx, wg: &wg, tasks: make(chan func())}
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if isTemporary(err) {
				// Out of file descriptors, most likely: wait and retry
				// rather than give up serving.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return fmt.Errorf("accept on control port: %w", err)
		}
		backoff = 0
		// On a worker: a connection's goroutine grows its stack through
		// the handshake and the copy loop (see workers).
		work.do(func() { s.handleConn(ctx, conn) })
	}
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() ServerStats {
	st := ServerStats{
		Tunnels:  s.tunnels.Load(),
		Pending:  s.nPend.Load(),
		Active:   s.traffic.active.Load(),
		Visitors: s.traffic.total.Load(),
		BytesIn:  s.traffic.bytesIn.Load(),
		BytesOut: s.traffic.bytesOut.Load(),
		Refused:  map[Refusal]int64{},
		Unused:   s.unused.Load(),
	}
	s.refused.Range(func(k, v any) bool {
		st.Refused[k.(Refusal)] = v.(*atomic.Int64).Load()
		return true
	})
	return st
}

func (s *Server) refuse(reason Refusal) {
	v, ok := s.refused.Load(reason)
	if !ok {
		v, _ = s.refused.LoadOrStore(reason, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

// refusalLogInterval is the least time between two warnings for the same
// kind of refusal.
const refusalLogInterval = time.Second

// warnRefusal logs a refusal at Warn, at most once per refusalLogInterval
// for each reason, so that a flood of connections does not also flood the
// log. The line says how many were left out since the last one; Stats and
// the metrics still count every refusal.
func (s *Server) warnRefusal(log *connLog, reason Refusal, msg string, args ...any) {
	ok, skipped := s.warns.allow(string(reason), time.Now())
	if !ok {
		return
	}
	if skipped > 0 {
		args = append(args, "skipped_since_last", skipped)
	}
	log.get().Warn(msg, args...)
}

// connLog is a connection's logger, with the connection's address. It is
// made when the first line is logged: most connections log none.
type connLog struct {
	base *slog.Logger
	conn net.Conn
	l    *slog.Logger
}

func (c *connLog) get() *slog.Logger {
	if c.l == nil {
		c.l = c.base.With("addr", c.conn.RemoteAddr().String())
	}
	return c.l
}

// debug reports whether debug lines are logged, so that callers build
// their arguments only then.
func (c *connLog) debug() bool {
	l := c.l
	if l == nil {
		l = c.base
	}
	return l.Enabled(context.Background(), slog.LevelDebug)
}

// logLimiter lets one event per key through each refusalLogInterval and
// counts the others.
type logLimiter struct {
	mu      sync.Mutex
	last    map[string]time.Time
	skipped map[string]int
}

// allow reports whether an event for key may be logged at now, and how many
// were held back since the last one allowed.
func (l *logLimiter) allow(key string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last, l.skipped = map[string]time.Time{}, map[string]int{}
	}
	if last, ok := l.last[key]; ok && now.Sub(last) < refusalLogInterval {
		l.skipped[key]++
		return false, 0
	}
	n := l.skipped[key]
	l.last[key], l.skipped[key] = now, 0
	return true, n
}

// handleConn runs the handshake common to every connection, then serves it
// as a tunnel (Hello) or a visitor's accept connection (Accept).
func (s *Server) handleConn(ctx context.Context, conn net.Conn) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	log := &connLog{base: s.log, conn: conn}

	select {
	case s.handshakes <- struct{}{}:
	default:
		s.refuse(RefusedBusy)
		s.warnRefusal(log, RefusedBusy, "too many handshakes in flight; refusing connection")
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.Write(encodeFrame(ServerMessage{Kind: ServerErr, Text: errTextServerBusy}))
		conn.Close()
		return
	}
	released := false
	release := func() {
		if !released {
			released = true
			<-s.handshakes
		}
	}
	defer release()

	fr := newFrameReader(conn)
	wait := s.handshakeTimeout
	if s.auth != nil {
		if !s.serverAuth(conn, fr, log) {
			conn.Close()
			return
		}
		// An authenticated connection may wait for its Hello or Accept:
		// clients keep ready accept connections. bore clients send theirs
		// at once and see no difference; the wait still holds a slot of
		// --max-handshakes.
		wait = max(wait, s.readyTimeout)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	msg, err := fr.readClient()
	if errors.Is(err, io.EOF) {
		// Closed cleanly without a byte: most likely a ready accept
		// connection its client retired unused. Nothing was refused.
		s.unused.Add(1)
		conn.Close()
		return
	}
	if err != nil {
		// After the handshake, or with no secret, bore answers protocol
		// errors with silence.
		s.refuse(RefusedProtocol)
		if log.debug() {
			log.get().Debug("connection closed during handshake", "err", describeReadErr(err))
		}
		conn.Close()
		return
	}
	conn.SetReadDeadline(time.Time{})
	release()
	switch msg.Kind {
	case ClientHello:
		s.serveTunnel(ctx, conn, msg.Port, log)
	case ClientAccept:
		// A forwarded visitor is reset on a server stop (serveAccept).
		// Take the plain close back first, or it could win the race
		// and end the visitor's transfer with a FIN after all.
		if !stop() {
			return // the server is stopping and closed conn already
		}
		s.serveAccept(ctx, conn, msg.ID, fr.buffered(), log)
	default:
		s.refuse(RefusedProtocol)
		s.warnRefusal(log, RefusedProtocol, "unexpected authenticate")
		conn.Close()
	}
}

// serverAuth sends a challenge and checks the answer, sending bore's Error
// frame when it fails.
func (s *Server) serverAuth(conn net.Conn, fr *frameReader, log *connLog) bool {
	challenge := uuid.New()
	conn.SetDeadline(time.Now().Add(s.handshakeTimeout))
	if _, err := conn.Write(encodeFrame(ServerMessage{Kind: ServerChallenge, ID: challenge})); err != nil {
		return false
	}
	msg, err := fr.readClient()
	var text string
	switch {
	case errors.Is(err, ErrFrameTooLong):
		text = errTextFrameLength
	case errors.Is(err, ErrParse):
		text = errTextParse
	case isTimeout(err):
		text = errTextTimeout
	case err != nil || msg.Kind != ClientAuthenticate:
		text = errTextSecretRequired
	case !s.auth.validate(challenge, msg.Answer):
		text = errTextInvalidSecret
	default:
		conn.SetWriteDeadline(time.Time{})
		return true
	}
	reason := RefusedProtocol
	if text == errTextInvalidSecret {
		reason = RefusedAuth
	}
	s.refuse(reason)
	s.warnRefusal(log, reason, "handshake failed", "err", text)
	// The read deadline may have passed, and it covered writes too: give
	// the Error frame its own time, or a timed-out client gets no reason.
	s.sendError(conn, text)
	return false
}

// serveTunnel opens a public port for a client and tells it about each
// visitor until the client goes away.
func (s *Server) serveTunnel(ctx context.Context, conn net.Conn, port uint16, log *connLog) {
	defer conn.Close()
	// Tunnels count per client address, an IPv6 /64 as one address.
	owner := addrKey(conn)
	s.mu.Lock()
	if s.perIP[owner] >= s.cfg.MaxTunnelsPerIP {
		s.mu.Unlock()
		s.refuse(RefusedPerIP)
		s.warnRefusal(log, RefusedPerIP, "refusing tunnel: too many tunnels from this address", "limit", s.cfg.MaxTunnelsPerIP)
		s.sendError(conn, errTextTooManyTunnels)
		return
	}
	s.perIP[owner]++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.perIP[owner]--; s.perIP[owner] <= 0 {
			delete(s.perIP, owner)
		}
		s.mu.Unlock()
	}()

	ln, text := s.listenTunnel(ctx, port)
	if ln == nil {
		s.refuse(RefusedPort)
		s.warnRefusal(log, RefusedPort, "refusing tunnel", "port", port, "err", text)
		s.sendError(conn, text)
		return
	}
	defer ln.Close()
	public := uint16(ln.Addr().(*net.TCPAddr).Port)
	log = &connLog{l: log.get().With("port", public)}
	s.tunnels.Add(1)
	defer s.tunnels.Add(-1)
	log.get().Info("new client")
	defer log.get().Info("client gone")

	setUserTimeout(conn, s.cfg.ClientTimeout)
	var wmu sync.Mutex // the heartbeat loop and the visitor loop both write
	// lastWrite is when a frame last went out, as time since start.
	start := time.Now()
	var lastWrite atomic.Int64
	heartbeat := ServerMessage{Kind: ServerHeartbeat}
	// writeLocked sends first, if it is not a heartbeat, and a heartbeat
	// (bore sends one after each Connection too), in one write.
	writeLocked := func(first ServerMessage) bool {
		var buf [128]byte
		b := buf[:0]
		if first.Kind != ServerHeartbeat {
			b = appendServerFrame(b, first)
		}
		b = appendServerFrame(b, heartbeat)
		now := time.Now()
		conn.SetWriteDeadline(now.Add(s.cfg.ClientTimeout))
		_, err := conn.Write(b)
		lastWrite.Store(int64(now.Sub(start)))
		return err == nil
	}
	write := func(first ServerMessage) bool {
		wmu.Lock()
		defer wmu.Unlock()
		return writeLocked(first)
	}

	// Visitors are announced from the goroutine that accepts them, so a
	// visitor's Connection frame leaves without a hand-off to this loop;
	// this loop only sends heartbeats when 500 ms pass with nothing sent,
	// and is not woken for each visitor: it looks at lastWrite when its
	// timer fires.
	visitorsDone := make(chan error, 1)
	var tunnelPending atomic.Int64
	announce := func(v net.Conn) bool {
		if tunnelPending.Load() >= int64(s.cfg.MaxPendingPerTunnel) || s.nPend.Load() >= int64(s.cfg.MaxPending) {
			s.refuse(RefusedPending)
			s.warnRefusal(log, RefusedPending, "too many visitors waiting; refusing one", "limit", s.cfg.MaxPendingPerTunnel)
			v.Close()
			return true
		}
		id, ok := s.addPending(v, &tunnelPending, owner, log)
		if !ok {
			s.refuse(RefusedPendingIP)
			s.warnRefusal(log, "pending_ip", "too many visitors waiting for this address's tunnels; refusing one", "limit", s.cfg.MaxPendingPerIP)
			v.Close()
			return true
		}
		if log.debug() {
			log.get().Debug("new connection", "visitor", v.RemoteAddr().String(), "id", id)
		}
		return write(ServerMessage{Kind: ServerConnection, ID: id})
	}
	// Every goroutine of the tunnel runs before its client can read the
	// Hello: the visitor loop starts first and waits for the write lock,
	// held here until the Hello is out, to announce anyone. Counting
	// goroutines once a client sees its tunnel open then gives a stable
	// baseline, instead of one that a moment later grows by the listener.
	wmu.Lock()
	go func() { visitorsDone <- acceptVisitors(ln, announce) }()
	defer func() {
		ln.Close()
		conn.Close() // ends an announce blocked on a stuck control connection
		<-visitorsDone
	}()
	ok := writeLocked(ServerMessage{Kind: ServerHello, Port: public})
	wmu.Unlock()
	if !ok {
		return
	}

	timer := time.NewTimer(s.heartbeat)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			if idle := time.Since(start) - time.Duration(lastWrite.Load()); idle < s.heartbeat {
				timer.Reset(s.heartbeat - idle)
				continue
			}
			if !write(heartbeat) {
				return
			}
		case err := <-visitorsDone:
			visitorsDone <- err // for the deferred wait
			if err != nil {
				log.get().Warn("tunnel listener failed", "err", err)
			}
			return
		}
		timer.Reset(s.heartbeat)
	}
}

// acceptVisitors passes each visitor on ln to announce until ln is closed
// or announce reports that the control connection failed. It returns the
// listener's error, or nil when it was closed or the control connection
// failed.
func acceptVisitors(ln net.Listener, announce func(net.Conn) bool) error {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if isTemporary(err) {
				// Out of file descriptors: wait for some to free up.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		backoff = 0
		if !announce(c) {
			return nil
		}
	}
}

// tunnelFamilies says which IP versions public ports on bind accept, for
// the startup log.
func tunnelFamilies(bind string) string {
	ip := net.ParseIP(bind)
	switch {
	case ip.To4() != nil:
		return "IPv4 only"
	case ip.IsUnspecified():
		return "IPv6, and IPv4 where the system allows dual-stack"
	}
	return "IPv6 only"
}

// listenTunnel binds the public port for a Hello, or returns bore's error
// text.
func (s *Server) listenTunnel(ctx context.Context, port uint16) (net.Listener, string) {
	bind := func(p uint16) (net.Listener, error) {
		return Listen(ctx, net.JoinHostPort(s.cfg.BindTunnels, strconv.Itoa(int(p))))
	}
	if port != 0 {
		if port < s.cfg.MinPort || port > s.cfg.MaxPort {
			return nil, errTextPortRange
		}
		ln, err := bind(port)
		if err != nil {
			return nil, bindErrorText(err)
		}
		return ln, ""
	}
	span := int(s.cfg.MaxPort) - int(s.cfg.MinPort) + 1
	for range randomPortTries {
		p := s.cfg.MinPort + uint16(rand.IntN(span))
		if p == 0 {
			continue // port 0 would mean "any", outside the range
		}
		if ln, err := bind(p); err == nil {
			return ln, ""
		}
	}
	return nil, errTextNoFreePort
}

func bindErrorText(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return errTextPortInUse
	case errors.Is(err, syscall.EACCES), errors.Is(err, os.ErrPermission):
		return errTextPermission
	}
	return errTextBindFailed
}

func (s *Server) sendError(conn net.Conn, text string) {
	conn.SetWriteDeadline(time.Now().Add(s.handshakeTimeout))
	conn.Write(encodeFrame(ServerMessage{Kind: ServerErr, Text: text}))
}

// addPending stores a visitor under a fresh id until it is accepted or
// expires. It reports false, storing nothing, when the tunnels of owner
// (a client address key) already have their share of visitors waiting.
func (s *Server) addPending(v net.Conn, tunnelPending *atomic.Int64, owner string, log *connLog) (uuid.UUID, bool) {
	id := uuid.New()
	p := &pendingConn{conn: v, tunnel: tunnelPending, owner: owner}
	s.mu.Lock()
	if s.pendIP[owner] >= s.cfg.MaxPendingPerIP {
		s.mu.Unlock()
		return uuid.UUID{}, false
	}
	s.pendIP[owner]++
	s.pending[id] = p
	p.stop = s.clock.AfterFunc(s.pendingTimeout, func() {
		if s.takePending(id) != nil {
			s.refuse(RefusedExpired)
			log.get().Debug("removed stale connection", "id", id)
			v.Close()
		}
	})
	s.mu.Unlock()
	tunnelPending.Add(1)
	s.nPend.Add(1)
	return id, true
}

// takePending removes and returns the visitor stored under id, or nil.
func (s *Server) takePending(id uuid.UUID) *pendingConn {
	s.mu.Lock()
	p := s.pending[id]
	if p != nil {
		delete(s.pending, id)
		if s.pendIP[p.owner]--; s.pendIP[p.owner] <= 0 {
			delete(s.pendIP, p.owner)
		}
	}
	s.mu.Unlock()
	if p != nil {
		p.tunnel.Add(-1)
		s.nPend.Add(-1)
	}
	return p
}

// closePending drops every visitor still waiting, at shutdown.
func (s *Server) closePending() {
	s.mu.Lock()
	ids := make([]uuid.UUID, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		if p := s.takePending(id); p != nil {
			p.stop()
			p.conn.Close()
		}
	}
}

// serveAccept joins a client's accept connection with the visitor it
// names. Bytes that arrived behind the Accept frame go to the visitor
// first. When ctx ends, both connections are reset.
func (s *Server) serveAccept(ctx context.Context, conn net.Conn, id uuid.UUID, leftover []byte, log *connLog) {
	p := s.takePending(id)
	if p == nil {
		s.refuse(RefusedUnknownID)
		if log.debug() {
			log.get().Debug("missing connection", "id", id)
		}
		conn.Close()
		return
	}
	p.stop()
	if log.debug() {
		log.get().Debug("forwarding connection", "id", id)
	}
	// Stopping the server cuts the transfer short, so both peers get a
	// reset, as for any abort (pipe): a visitor in the middle of a
	// download must not take the stop for its complete end, nor the
	// client's local service an upload cut short. Closing the accept
	// connection alone would also leave a copy to a visitor that reads
	// nothing waiting for room, and the stop waiting for that copy.
	stop := context.AfterFunc(ctx, func() {
		abort(conn)
		abort(p.conn)
	})
	defer stop()
	if len(leftover) > 0 {
		p.conn.SetWriteDeadline(time.Now().Add(s.cfg.ClientTimeout))
		if _, err := p.conn.Write(leftover); err != nil {
			abort(conn)
			abort(p.conn)
			return
		}
		p.conn.SetWriteDeadline(time.Time{})
	}
	join(p.conn, conn, &s.traffic)
}

// addrKey names the client address that limits per address count against:
// the IPv4 address itself, or for IPv6 its /64, which one client usually
// controls whole. An IPv4 address in IPv6 form counts as IPv4.
func addrKey(c net.Conn) string {
	ip := net.ParseIP(remoteIP(c))
	if ip == nil {
		return remoteIP(c)
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// isTemporary reports accept errors worth retrying, such as running out
// of file descriptors.
func isTemporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ECONNABORTED)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// describeReadErr words a handshake read error as bore does.
func describeReadErr(err error) string {
	switch {
	case isTimeout(err):
		return errTextTimeout
	case errors.Is(err, io.EOF):
		return "unexpected EOF"
	}
	return err.Error()
}

// clock schedules the expiry of pending visitors; tests replace it.
type clock interface {
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
