//go:build unix

package tunnel

import (
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// copyConn copies src to dst until src ends (io.EOF) or either fails,
// calling add after bytes moved. Between bursts it waits for src to
// become readable without holding a buffer or a pipe: the buffer is taken
// from the pool only once bytes are there, and given back as soon as they
// are written.
//
// Small messages, the common case, stay inside one read callback: the
// bytes are written without waiting, with raw system calls (readNB says
// why). Only a write that would block, an error, the end, and a burst (a
// read that filled the buffer) leave the callback.
func copyConn(dst, src net.Conn, add func(int64)) error {
	ss, ok1 := src.(syscall.Conn)
	ds, ok2 := dst.(syscall.Conn)
	if !ok1 || !ok2 {
		return copyPlain(dst, src, add)
	}
	sraw, err1 := ss.SyscallConn()
	draw, err2 := ds.SyscallConn()
	if err1 != nil || err2 != nil {
		return copyPlain(dst, src, add)
	}
	for {
		var bp *[]byte
		var k, w int
		var rerr, werr error
		err := sraw.Read(func(fd uintptr) bool {
			for {
				bp = bufPool.Get().(*[]byte)
				k, rerr = readNB(int(fd), *bp)
				switch {
				case rerr == unix.EAGAIN:
					// Nothing yet: park without the buffer.
					bufPool.Put(bp)
					bp = nil
					return false
				case rerr != nil || k == 0:
					return true
				}
				w, werr = writeNow(draw, (*bp)[:k])
				if werr != nil || w < k || k == len(*bp) {
					return true
				}
				bufPool.Put(bp)
				bp = nil
				add(int64(k))
				// Read again: a short read does not mean src is drained
				// of its end (a FIN that came with the bytes signals no
				// readiness of its own).
			}
		})
		if err == nil {
			err = rerr
		}
		if err == nil && k <= 0 {
			err = io.EOF
		}
		if err == nil {
			err = werr
		}
		if err == nil && w < k {
			// dst is full: wait for it.
			_, err = dst.Write((*bp)[w:k])
		}
		full := bp != nil && k == len(*bp)
		if bp != nil {
			bufPool.Put(bp)
		}
		if err != nil {
			return err
		}
		add(int64(k))
		if full {
			// A burst: move the rest of it without waiting for src.
			if err := copyBurst(dst, sraw, draw, add); err != nil {
				return err
			}
		}
	}
}

// writeNow writes as much of p to the socket behind raw as it takes
// without waiting, and returns how much that was.
func writeNow(raw syscall.RawConn, p []byte) (int, error) {
	var n int
	var werr error
	err := raw.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := writeNB(int(fd), p[n:])
			if e != nil {
				if e != unix.EAGAIN {
					werr = e
				}
				return true
			}
			n += m
		}
		return true
	})
	if err != nil {
		return n, err
	}
	return n, werr
}

// closeWrite passes a clean end on to c (a half-close). A TCP
// connection of this process is shut down with a raw system call
// (readNB says why); others through their CloseWrite.
func closeWrite(c closeWriter) error {
	if tc, ok := c.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			var serr error
			if err := raw.Control(func(fd uintptr) { serr = shutdownWriteNB(int(fd)) }); err != nil {
				return err
			}
			return serr
		}
	}
	return c.CloseWrite()
}

// readNow reads once from a non-blocking socket without waiting. It
// returns unix.EAGAIN when there is nothing to read.
func readNow(raw syscall.RawConn, buf []byte) (int, error) {
	var k int
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		k, rerr = readNB(int(fd), buf)
		return true
	})
	if err != nil {
		return 0, err
	}
	return k, rerr
}

// copyBurstPlain moves bytes through a pooled buffer for as long as the
// source has them without waiting. It returns nil when the source has
// nothing more for now, io.EOF at its end, or the error that stopped it.
func copyBurstPlain(dst net.Conn, sraw syscall.RawConn, add func(int64)) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	for {
		k, err := readNow(sraw, *bp)
		switch {
		case err == unix.EAGAIN:
			return nil
		case err != nil:
			return err
		case k <= 0:
			return io.EOF
		}
		if _, err := dst.Write((*bp)[:k]); err != nil {
			return err
		}
		add(int64(k))
	}
}
