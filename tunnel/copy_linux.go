package tunnel

import (
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// spliceMax is the pipe size asked for and the most one splice(2) moves:
// 1 MiB, the default pipe-max-size. Bulk transfers cost measurably more
// CPU per byte with less.
const spliceMax = 1 << 20

// copyBurst moves bytes from the socket behind sraw to the one behind
// draw with splice(2) through a pipe of its own, as long as the source
// has bytes to give without waiting. The pipe lives only as long as the
// burst: it is closed before copyBurst returns, so an idle connection
// holds none (the pipes Go's own splice keeps in a pool linger after the
// connections close). It returns nil when the source has nothing more
// for now, io.EOF at its end, or the error that stopped it.
func copyBurst(dst net.Conn, sraw, draw syscall.RawConn, add func(int64)) error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		// Out of descriptors, most likely: go on with the buffer.
		return copyBurstPlain(dst, sraw, add)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	size := spliceMax
	if n, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, spliceMax); err != nil {
		if n, err = unix.FcntlInt(uintptr(p[1]), unix.F_GETPIPE_SZ, 0); err == nil && n > 0 {
			size = n
		} else {
			size = 64 << 10
		}
	} else if n > 0 {
		size = n
	}
	for {
		var k int64
		var serr error
		err := sraw.Read(func(fd uintptr) bool {
			for {
				k, serr = unix.Splice(int(fd), nil, p[1], nil, size, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
				if serr != unix.EINTR {
					return true // never wait: an empty socket ends the burst
				}
			}
		})
		if err != nil {
			return err
		}
		switch {
		case serr == unix.EAGAIN:
			return nil
		case serr != nil:
			return serr
		case k == 0:
			return io.EOF
		}
		for left := int(k); left > 0; {
			var m int64
			var werr error
			err := draw.Write(func(fd uintptr) bool {
				for {
					m, werr = unix.Splice(p[0], nil, int(fd), nil, left, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
					if werr != unix.EINTR {
						break
					}
				}
				return werr != unix.EAGAIN // wait until dst can take more
			})
			if err == nil {
				err = werr
			}
			if err != nil {
				return err
			}
			left -= int(m)
		}
		add(k)
	}
}
