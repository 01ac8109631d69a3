//go:build unix && !linux

package tunnel

import "golang.org/x/sys/unix"

// readNB reads from the non-blocking socket fd.
func readNB(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err != unix.EINTR {
			if err != nil {
				n = 0
			}
			return n, err
		}
	}
}

// writeNB writes to the non-blocking socket fd what it takes without
// waiting.
func writeNB(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
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
