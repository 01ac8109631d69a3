package tunnel

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// copyBuf is the size of the buffers a copy borrows while bytes flow. A
// copy waiting for bytes holds no buffer and no pipe: an idle forwarded
// connection costs its two sockets and a parked goroutine per direction,
// whatever it carried before. Where the platform allows (copyConn), the
// buffer is taken only once the socket is readable; a read that fills it
// means a burst is under way, and the copy moves the rest of the burst by
// the fastest means the platform has (splice(2) on Linux) until the
// socket has nothing more to give.
const copyBuf = 64 << 10

// bufPool holds the copy buffers, shared by every connection.
var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBuf); return &b }}

// counters accumulate traffic for one side of a tunnel. The copy path only
// adds to them; readers sample them off the path.
type counters struct {
	active   atomic.Int64
	total    atomic.Int64
	bytesIn  atomic.Int64 // visitor to local service
	bytesOut atomic.Int64 // local service to visitor
	// onBytes, when set, is called after bytes moved and after a
	// connection opened or closed. It must not block.
	onBytes func()
}

// moved reports a change of the counters to onBytes, if set.
func (c *counters) moved() {
	if c.onBytes != nil {
		c.onBytes()
	}
}

// closeWriter is what a connection needs to pass on a half-close.
type closeWriter interface {
	CloseWrite() error
}

// join copies bytes both ways between the visitor-side connection a and the
// local-side connection b until both directions are done, passing an EOF in
// one direction on as a half-close (shutdown of the write side) of the
// other, as bore 0.6.0 does, and an abort (a reset, a timeout) in either
// as a reset of both (pipe). It closes both connections before returning.
// in counts bytes from a to b, out from b to a.
func join(a, b net.Conn, c *counters) {
	if c != nil {
		c.active.Add(1)
		c.total.Add(1)
		c.moved()
		defer func() {
			c.active.Add(-1)
			c.moved() // a visitor leaving must be seen, bytes or not
		}()
	}
	// finA and finB are set once a half-close was sent to a and to b.
	var finA, finB atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		pipe(b, a, c, true, &finB, &finA)
	}()
	pipe(a, b, c, false, &finA, &finB)
	<-done
	a.Close()
	b.Close()
}

// pipe copies src to dst and passes on how src ended. A clean end (EOF,
// the peer's FIN) becomes a half-close of dst. Anything else is an abort:
// a reset or a timeout on src, a failed write to dst (its peer reset), or
// the connection closed here because the other direction aborted or the
// tunnel is stopping. An abort closes both connections with a reset, so
// the peers on both sides learn that the stream was cut short instead of
// seeing a clean end that would make a truncated transfer look complete;
// this goes beyond bore, which closes both with a FIN either way. Closing
// both also ends the copy in the other direction.
//
// Only an abort resets: a direction that ended cleanly leaves its bytes
// queued in the kernel to be delivered, and a clean end of both
// directions closes both connections normally (join). A half-close that
// fails means dst was already reset by its peer, so src's peer is told
// with a reset too.
//
// An EOF can hide a reset: the kernel reports a reset to one call only,
// and when the other direction's write to src took it, the read here
// returns 0 as if src had ended cleanly. resetEnd tells the two apart
// (finSrc says whether a half-close was sent to src, which changes what
// its state means); finDst is set before a half-close is sent to dst.
func pipe(dst, src net.Conn, c *counters, in bool, finDst, finSrc *atomic.Bool) {
	add := func(int64) {}
	if c != nil {
		n := &c.bytesOut
		if in {
			n = &c.bytesIn
		}
		add = func(k int64) {
			n.Add(k)
			c.moved()
		}
	}
	err := copyConn(dst, src, add)
	if errors.Is(err, io.EOF) && resetEnd(src, finSrc.Load()) {
		err = syscall.ECONNRESET
	}
	if errors.Is(err, io.EOF) {
		cw, ok := dst.(closeWriter)
		finDst.Store(true)
		if ok && closeWrite(cw) == nil {
			return
		}
		if !ok {
			// No half-close to pass the end on with: a plain close
			// is the clean end this side can give.
			dst.Close()
			src.Close()
			return
		}
	}
	abort(dst)
	abort(src)
}

// abort closes c with a reset rather than a FIN (SO_LINGER 0), so its peer
// learns that the stream was cut short. Bytes still queued to be sent on c
// are dropped, as they would be past any abort. A wrapper (ConnWrapper) is
// seen through when it has a NetConn method, as tls.Conn does; a
// connection that cannot reset is closed plainly.
func abort(c net.Conn) {
	inner := c
	for range 4 {
		u, ok := inner.(interface{ NetConn() net.Conn })
		if !ok || u.NetConn() == nil {
			break
		}
		inner = u.NetConn()
	}
	if l, ok := inner.(interface{ SetLinger(int) error }); ok {
		l.SetLinger(0)
	}
	c.Close()
}

// copyPlain copies src to dst with ordinary reads and writes until src
// ends (io.EOF) or either fails, calling add after each write. It waits
// for bytes in a small buffer of its own and borrows a pooled one only
// while reads keep filling the small one, so an idle connection holds
// 512 bytes per direction. It serves connections that are not sockets of
// this process, and platforms without a way to wait for readability
// without a read.
func copyPlain(dst, src net.Conn, add func(int64)) error {
	var small [512]byte
	for {
		k, err := readWrite(dst, src, small[:])
		if k > 0 {
			add(int64(k))
		}
		if err != nil {
			return err
		}
		if k < len(small) {
			continue
		}
		bp := bufPool.Get().(*[]byte)
		for k == len(small) || k == len(*bp) {
			if k, err = readWrite(dst, src, *bp); k > 0 {
				add(int64(k))
			}
			if err != nil {
				bufPool.Put(bp)
				return err
			}
			if k < len(*bp) {
				break
			}
		}
		bufPool.Put(bp)
	}
}

// readWrite reads once from src into buf and writes what it got to dst.
// A read error, io.EOF included, is returned only when nothing was read.
func readWrite(dst, src net.Conn, buf []byte) (int, error) {
	k, err := src.Read(buf)
	if k == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return 0, err
	}
	if _, werr := dst.Write(buf[:k]); werr != nil {
		return 0, werr
	}
	return k, nil
}
