// Package inspect shows what goes through a tunnel: an Inspector watches a
// copy of each local connection's bytes, parses HTTP/1.x exchanges with
// the standard library, and serves a live page on loopback where they can
// be read, filtered and replayed against the local service. Connections
// that are not HTTP/1.x (TLS, HTTP/2, anything else) are shown as
// connections with their bytes each way and duration.
//
// Inspection never changes a byte and never slows the traffic: parsers
// read copies through bounded buffers, and a parser that falls behind
// stops inspecting its connection instead of holding the tunnel back. It
// keeps the newest MaxItems exchanges within MaxBytes of captured bytes,
// in memory only.
//
// To inspect a tunnel, attach an Inspector to its configuration before
// starting it:
//
//	insp, err := inspect.Attach(&cfg, inspect.Options{})
//	// print or open insp.URL(); call insp.Close() when the tunnel stops
//
// To turn inspection on and off while a tunnel runs, make a *Switch the
// tunnel's WrapLocal instead and Set an Inspector (or nil) on it later.
package inspect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/boretray/bore/tunnel"
)

// Defaults for Options.
const (
	DefaultMaxItems = 500
	DefaultBodyCap  = 64 << 10
	DefaultRawCap   = 64 << 10
	DefaultMaxBytes = 32 << 20
	DefaultMaxConns = 64
	// feedCap is how far, in bytes, one direction's parser may fall
	// behind before inspection of that connection stops.
	feedCap = 256 << 10
)

// Options configure an Inspector. Zero values take the defaults.
type Options struct {
	// Target is the local service's address (host:port), where replays
	// are sent. Attach fills it in from the tunnel's configuration.
	Target string
	// Listen is the page's address; it must be a loopback IP. Empty
	// means 127.0.0.1 on a free port.
	Listen string
	// Title names the tunnel on the page, such as "localhost:3000".
	Title string
	// MaxItems is how many exchanges and connections the page keeps;
	// older ones are dropped. Default 500.
	MaxItems int
	// MaxBytes caps the bytes kept for all items together (bodies,
	// raw bytes, headers); the oldest are dropped first. Default 32 MiB.
	MaxBytes int
	// BodyCap is how much of each body is kept; the rest is counted but
	// not kept. Default 64 KiB.
	BodyCap int
	// RawCap is how much of each message is kept as it was on the wire,
	// for the raw view. Default 64 KiB.
	RawCap int
	// MaxConns is how many connections are parsed at once; connections
	// beyond it are counted but not parsed. Default 64.
	MaxConns int
	// Logger receives the inspector's logs; nil discards them.
	Logger *slog.Logger
}

// Inspector watches one tunnel's local connections and serves the page.
// Its methods are safe for concurrent use.
type Inspector struct {
	opts  Options
	store *store
	log   *slog.Logger
	token string
	ln    net.Listener
	srv   *http.Server
	url   string

	ctx    context.Context // ends when the Inspector closes
	cancel context.CancelFunc

	mu       sync.Mutex
	title    string
	live     int // connections being parsed
	open     map[*connState]struct{}
	closed   bool
	nextID   atomic.Uint64
	behind   atomic.Int64 // connections whose parser fell behind
	parsers  sync.WaitGroup
	handlers sync.WaitGroup
	served   chan struct{}
}

// New starts an Inspector's page on opts.Listen and returns it. Give it
// to the tunnel as ClientConfig.WrapLocal.
func New(opts Options) (*Inspector, error) {
	if opts.Target == "" {
		return nil, errors.New("inspect: no local service address to replay to")
	}
	if opts.MaxItems <= 0 {
		opts.MaxItems = DefaultMaxItems
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.BodyCap <= 0 {
		opts.BodyCap = DefaultBodyCap
	}
	if opts.RawCap <= 0 {
		opts.RawCap = DefaultRawCap
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	listen, err := loopbackAddr(opts.Listen)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("inspector: cannot listen on %s: %w", listen, err)
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	ctx, cancel := context.WithCancel(context.Background())
	in := &Inspector{
		opts:   opts,
		store:  newStore(opts.MaxItems, opts.MaxBytes),
		log:    opts.Logger,
		token:  hex.EncodeToString(tok),
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		title:  opts.Title,
		open:   make(map[*connState]struct{}),
		served: make(chan struct{}),
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.title == "" {
		in.title = opts.Target
	}
	in.url = "http://" + ln.Addr().String() + "/?token=" + in.token
	in.srv = &http.Server{
		Handler:           in.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(in.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(in.served)
		in.srv.Serve(ln)
	}()
	in.parsers.Add(1)
	go func() {
		defer in.parsers.Done()
		in.refreshLoop()
	}()
	return in, nil
}

// refreshInterval is how often the lines of open connections show their
// byte counts anew.
const refreshInterval = time.Second

func (in *Inspector) refreshLoop() {
	tick := time.NewTicker(refreshInterval)
	defer tick.Stop()
	for {
		select {
		case <-in.ctx.Done():
			return
		case <-tick.C:
		}
		in.mu.Lock()
		open := make([]*connState, 0, len(in.open))
		for st := range in.open {
			open = append(open, st)
		}
		in.mu.Unlock()
		for _, st := range open {
			st.refreshRow()
		}
	}
}

// Switch lets inspection be turned on and off for a running tunnel: make
// it the ClientConfig's WrapLocal, then Set an Inspector or nil.
// With none set, Wrap returns the connection itself, so the tunnel keeps
// its direct copy path. New connections follow the switch; open ones keep
// what they had. The zero Switch is off.
type Switch struct {
	p atomic.Pointer[Inspector]
}

// Set makes new connections go through in, or through nothing when in is
// nil. It returns the Inspector it replaces, for the caller to Close.
func (s *Switch) Set(in *Inspector) *Inspector { return s.p.Swap(in) }

// Inspector returns the Inspector set now, or nil.
func (s *Switch) Inspector() *Inspector { return s.p.Load() }

// Wrap passes local to the Inspector set now (tunnel.ConnWrapper).
func (s *Switch) Wrap(local net.Conn) net.Conn {
	if in := s.p.Load(); in != nil {
		return in.Wrap(local)
	}
	return local
}

// Attach creates an Inspector for the tunnel cfg describes and sets
// cfg.WrapLocal to it, so the tunnel's connections go through it. opts.Target
// and opts.Title default to cfg's local service.
func Attach(cfg *tunnel.ClientConfig, opts Options) (*Inspector, error) {
	host := cfg.LocalHost
	if host == "" {
		host = "localhost"
	}
	local := net.JoinHostPort(host, strconv.Itoa(int(cfg.LocalPort)))
	if opts.Target == "" {
		opts.Target = local
	}
	if opts.Title == "" {
		opts.Title = local
	}
	in, err := New(opts)
	if err != nil {
		return nil, err
	}
	cfg.WrapLocal = in
	return in, nil
}

// loopbackAddr checks a --inspect address: empty, a port, :port or
// host:port with a loopback host.
func loopbackAddr(a string) (string, error) {
	if a == "" {
		return "127.0.0.1:0", nil
	}
	if _, err := strconv.ParseUint(a, 10, 16); err == nil {
		return net.JoinHostPort("127.0.0.1", a), nil
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", fmt.Errorf("invalid inspector address %q: use PORT or 127.0.0.1:PORT", a)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("invalid inspector address %q: the inspector only listens on loopback (127.0.0.1), so other machines cannot read the traffic", a)
	}
	return net.JoinHostPort(host, port), nil
}

// URL is the page's address, with the token that opens it. Only someone
// who has it can read the page.
func (in *Inspector) URL() string { return in.url }

// Addr is the page's host:port.
func (in *Inspector) Addr() string { return in.ln.Addr().String() }

// SetTitle changes how the page names the tunnel, for example once its
// public address is known.
func (in *Inspector) SetTitle(title string) {
	in.mu.Lock()
	in.title = title
	in.mu.Unlock()
}

func (in *Inspector) getTitle() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.title
}

// Wrap returns a connection that passes local's bytes on unchanged while
// the Inspector watches them (tunnel.ConnWrapper). After Close it
// returns local itself.
func (in *Inspector) Wrap(local net.Conn) net.Conn {
	st := &connState{
		ins:      in,
		id:       in.nextID.Add(1),
		start:    time.Now(),
		req:      newFeed(feedCap),
		resp:     newFeed(feedCap),
		done:     make(chan struct{}),
		quit:     make(chan struct{}),
		respDone: make(chan struct{}),
	}
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return local
	}
	in.open[st] = struct{}{}
	parse := in.live < in.opts.MaxConns
	if parse {
		in.live++
		in.parsers.Add(2)
		st.parsers.Store(2)
		st.inspecting.Store(true)
	}
	in.mu.Unlock()
	if parse {
		pending := make(chan *pendingReq, 64)
		go func() {
			defer in.parsers.Done()
			st.parseRequests(pending)
		}()
		go func() {
			defer in.parsers.Done()
			st.parseResponses(pending)
		}()
	} else {
		st.becomeConn("TCP", fmt.Sprintf("not parsed: %d connections were being inspected at once", in.opts.MaxConns))
	}
	return &conn{Conn: local, st: st}
}

// parsersEnded frees a connection's parsing slot.
func (in *Inspector) parsersEnded(*connState) {
	in.mu.Lock()
	in.live--
	in.mu.Unlock()
}

func (in *Inspector) connClosed(st *connState) {
	in.mu.Lock()
	delete(in.open, st)
	in.mu.Unlock()
	st.touchRow()
}

// Stats is what an Inspector holds at the moment.
type Stats struct {
	// Items is how many exchanges and connections it keeps.
	Items int
	// Bytes is how many captured bytes they hold, as counted against
	// MaxBytes.
	Bytes int
	// Parsing is how many connections are being parsed.
	Parsing int
	// FellBehind counts connections whose inspection stopped because
	// their parser could not keep up with the traffic.
	FellBehind int
}

// Stats returns what the Inspector holds.
func (in *Inspector) Stats() Stats {
	n, b := in.store.retained()
	in.mu.Lock()
	defer in.mu.Unlock()
	return Stats{Items: n, Bytes: b, Parsing: in.live, FellBehind: int(in.behind.Load())}
}

// Close stops the page and all parsing. Connections already wrapped keep
// flowing, uninspected.
func (in *Inspector) Close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	open := make([]*connState, 0, len(in.open))
	for st := range in.open {
		open = append(open, st)
	}
	in.mu.Unlock()
	for _, st := range open {
		st.stop(errStopped)
	}
	in.cancel()
	err := in.srv.Close()
	<-in.served
	in.handlers.Wait()
	in.parsers.Wait()
	return err
}
