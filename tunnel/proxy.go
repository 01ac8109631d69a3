package tunnel

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
)

// copyChunk is how many bytes one io.CopyN moves before the counters are
// updated. io.CopyN between two *net.TCPConn keeps the kernel's splice(2)
// path, so chunking costs a few system calls per chunk, not a copy. 1 MiB
// is what Go moves per splice call and its pipes hold: a smaller chunk
// costs measurably more CPU per byte on bulk transfers.
const copyChunk = 1 << 20

// smallRead is the buffer a copy waits on between bursts. A splice(2)
// waiting for bytes holds a pipe (two file descriptors) all the while, so
// thousands of idle connections would run the process out of descriptors;
// a blocked read holds only this buffer. A read that fills it means a
// burst is under way, and the copy switches to splice for the next chunk.
const smallRead = 512

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
// other, as bore 0.6.0 does. It closes both connections before returning.
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
	done := make(chan struct{})
	go func() {
		defer close(done)
		pipe(b, a, c, true)
	}()
	pipe(a, b, c, false)
	<-done
	a.Close()
	b.Close()
}

// pipe copies src to dst. On a clean EOF it half-closes dst; on an error it
// closes both, which also ends the copy in the other direction.
func pipe(dst, src net.Conn, c *counters, in bool) {
	var n *atomic.Int64
	if c != nil {
		n = &c.bytesOut
		if in {
			n = &c.bytesIn
		}
	}
	buf := make([]byte, smallRead)
	bulk := false
	for {
		var k int64
		var err error
		if bulk {
			// A burst is under way: keep splicing whole chunks while
			// they fill, and go back to the small read once one does not.
			k, err = io.CopyN(dst, src, copyChunk)
			bulk = k == copyChunk
		} else {
			k, err = readThenWrite(dst, src, buf)
			bulk = err == nil && k == int64(len(buf))
		}
		if n != nil && k > 0 {
			n.Add(k)
			c.moved()
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			if cw, ok := dst.(closeWriter); ok && cw.CloseWrite() == nil {
				return
			}
		}
		dst.Close()
		src.Close()
		return
	}
}

// readThenWrite waits for bytes on src, reads at most len(buf) of them and
// writes them to dst. A read error, io.EOF included, is returned only when
// nothing was read.
func readThenWrite(dst, src net.Conn, buf []byte) (int64, error) {
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
	return int64(k), nil
}
