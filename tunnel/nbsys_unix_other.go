//go:build unix && !linux

package tunnel

import "golang.org/x/sys/unix"

// readNB reads from the non-blocking socket fd.
func readNB(fd int, p []byte) (int, error) { return retryEINTR(unix.Read, fd, p) }

// writeNB writes to the non-blocking socket fd what it takes without
// waiting.
func writeNB(fd int, p []byte) (int, error) { return retryEINTR(unix.Write, fd, p) }

// retryEINTR calls op on fd with p, again when a signal interrupted it.
func retryEINTR(op func(int, []byte) (int, error), fd int, p []byte) (int, error) {
	for {
		n, err := op(fd, p)
		if err != unix.EINTR {
			if err != nil {
				n = 0
			}
			return n, err
		}
	}
}

// shutdownWriteNB shuts down the write side of the socket fd.
func shutdownWriteNB(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }
