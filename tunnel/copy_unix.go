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
		var k int
		var rerr error
		err := sraw.Read(func(fd uintptr) bool {
			bp = bufPool.Get().(*[]byte)
			for {
				k, rerr = unix.Read(int(fd), *bp)
				if rerr != unix.EINTR {
					break
				}
			}
			if rerr == unix.EAGAIN {
				// Nothing yet: park without the buffer.
				bufPool.Put(bp)
				bp = nil
				return false
			}
			return true
		})
		if err == nil {
			err = rerr
		}
		if err == nil && k <= 0 {
			err = io.EOF
		}
		if err != nil {
			if bp != nil {
				bufPool.Put(bp)
			}
			return err
		}
		_, err = dst.Write((*bp)[:k])
		full := k == len(*bp)
		bufPool.Put(bp)
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

// readNow reads once from a non-blocking socket without waiting. It
// returns unix.EAGAIN when there is nothing to read.
func readNow(raw syscall.RawConn, buf []byte) (int, error) {
	var k int
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		for {
			k, rerr = unix.Read(int(fd), buf)
			if rerr != unix.EINTR {
				return true
			}
		}
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
