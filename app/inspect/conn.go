package inspect

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// closeWriter is what the tunnel needs to pass a half-close on.
type closeWriter interface {
	CloseWrite() error
}

// conn wraps one visitor's connection to the local service. Bytes written
// to it go to the service (the request direction); bytes read from it
// come from the service (the response direction). Each direction is
// passed on unchanged and, while the connection is inspected, copied into
// a feed for its parser.
type conn struct {
	net.Conn
	st *connState
}

// Write feeds a copy of p to the request parser, then sends p on.
func (c *conn) Write(p []byte) (int, error) {
	if len(p) > 0 && !c.st.sawReq.Load() {
		c.st.sawReq.Store(true)
	}
	c.st.observe(&c.st.in, c.st.req, p)
	return c.Conn.Write(p)
}

// Read reads from the local service and feeds a copy to the response
// parser.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		if !c.st.sawResp.Load() {
			c.st.sawResp.Store(true)
		}
		c.st.observe(&c.st.out, c.st.resp, p[:n])
	}
	if err != nil {
		c.st.endFeed(c.st.resp, err)
	}
	return n, err
}

// CloseWrite passes the visitor's half-close on to the local service and
// ends the request feed.
func (c *conn) CloseWrite() error {
	c.st.endFeed(c.st.req, io.EOF)
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// NetConn returns the connection to the local service that c wraps, so
// the tunnel can pass a visitor's abort on to the service as a reset.
func (c *conn) NetConn() net.Conn { return c.Conn }

// Close closes the connection and ends its inspection.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.st.closed()
	return err
}

// connState is what the inspector knows about one local connection.
type connState struct {
	ins   *Inspector
	id    uint64
	start time.Time
	in    atomic.Int64 // bytes visitor -> service
	out   atomic.Int64 // bytes service -> visitor

	// inspecting is true while the parsers get copies of the bytes.
	inspecting atomic.Bool
	// sawReq is set before the first byte goes to the service, sawResp
	// when the first byte comes back: a service that speaks first is
	// not an HTTP server.
	sawReq, sawResp atomic.Bool
	sawHTTP         atomic.Bool   // a request was parsed
	quit            chan struct{} // closed when inspection stops
	respDone        chan struct{} // closed when the response parser ends
	parsers         atomic.Int32  // parser goroutines still running
	req, resp       *feed
	closeOnce       sync.Once
	done            chan struct{} // closed when the connection closed
	end             atomic.Int64  // unix nanoseconds of the close; 0 while open

	// row is the connection's line in the list, once it has one (a
	// connection that is not HTTP, or no longer is).
	rowMu sync.Mutex
	row   *item
	// shown is the bytes each way last pushed to the views.
	shownIn, shownOut int64
}

func (s *connState) observe(n *atomic.Int64, f *feed, p []byte) {
	n.Add(int64(len(p)))
	if len(p) == 0 || !s.inspecting.Load() {
		return
	}
	if !f.write(p) {
		// The feed ended: fell behind, or its parser stopped. A feed
		// that fell behind stops the whole connection's inspection.
		if s.inspecting.Load() {
			s.ins.behind.Add(1)
			s.stop(errBehind)
			proto := "TCP"
			if s.sawHTTP.Load() {
				proto = "HTTP/1.x"
			}
			s.becomeConn(proto, "inspection stopped: the parser fell behind the traffic")
		}
	}
}

func (s *connState) endFeed(f *feed, err error) {
	// Whatever ended the stream (EOF, a reset, a close from the other
	// side), the parser sees the end of the connection.
	f.close(io.EOF, false)
}

// stop ends inspection of the connection: both feeds close and drop what
// they hold, and the parsers end. The bytes go on being counted.
func (s *connState) stop(reason error) {
	if !s.inspecting.Swap(false) {
		return
	}
	close(s.quit)
	s.req.close(reason, true)
	s.resp.close(reason, true)
}

// parserDone is called by each parser goroutine as it ends.
func (s *connState) parserDone() {
	if s.parsers.Add(-1) == 0 {
		s.ins.parsersEnded(s)
	}
}

// becomeConn shows the connection as a connection line (it is not HTTP,
// or no longer inspected as HTTP), or updates that line.
func (s *connState) becomeConn(proto, note string) {
	s.rowMu.Lock()
	defer s.rowMu.Unlock()
	if s.row == nil {
		s.row = s.ins.store.add(&item{kind: kindConn, st: s, time: s.start, proto: proto, note: note})
		return
	}
	s.ins.store.update(s.row, func(it *item) { it.proto, it.note = proto, note })
}

// refreshRow pushes the line of a connection still open to the views
// when its byte counts moved.
func (s *connState) refreshRow() {
	s.rowMu.Lock()
	row := s.row
	in, out := s.in.Load(), s.out.Load()
	moved := row != nil && (in != s.shownIn || out != s.shownOut)
	s.shownIn, s.shownOut = in, out
	s.rowMu.Unlock()
	if moved {
		s.ins.store.update(row, func(*item) {})
	}
}

// touchRow tells the views that the connection's line changed (it
// closed), if it has one.
func (s *connState) touchRow() {
	s.rowMu.Lock()
	row := s.row
	s.rowMu.Unlock()
	if row != nil {
		s.ins.store.update(row, func(*item) {})
	}
}

func (s *connState) closed() {
	s.closeOnce.Do(func() {
		s.end.Store(time.Now().UnixNano())
		// Parsers read what is buffered, then see the end.
		s.req.close(io.EOF, false)
		s.resp.close(io.EOF, false)
		close(s.done)
		s.ins.connClosed(s)
	})
}

// duration is how long the connection has been (or was) open.
func (s *connState) duration() time.Duration {
	if e := s.end.Load(); e != 0 {
		return time.Unix(0, e).Sub(s.start)
	}
	return time.Since(s.start)
}
