//go:build unix

package desktop

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Lock takes the per-user single-instance lock called name (flock on a file
// in the XDG runtime dir, or the config dir). It returns ErrAlreadyRunning
// when another instance (or another Lock call in this process) holds it.
// The lock lasts until release is called or the process exits.
func Lock(name string) (release func(), err error) {
	path, err := lockPath(name)
	if err != nil {
		return nil, err
	}
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrAlreadyRunning
		}
		return nil, fmt.Errorf("cannot take the instance lock %s: %w", path, err)
	}
	// The PID is only informative, for a person wondering who holds it.
	// openLockFile made sure f is our own regular file, not a link's
	// target, so truncating it destroys nothing.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	released := false
	return func() {
		if released {
			return
		}
		released = true
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// openLockFile opens (creating it if needed) the lock file at path without
// following a symbolic link, and checks that it is a regular file owned by
// this user before anything is written to it. A link or a special file in
// its place is reported in plain words and left alone: following it would
// let whoever planted it make Bore overwrite another file.
func openLockFile(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("the instance lock %s is a symbolic link, and Bore does not follow links where it writes: remove the link and start Bore again", path)
		}
		return nil, fmt.Errorf("cannot open the instance lock %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("cannot check the instance lock %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("the instance lock %s is not a regular file: remove it and start Bore again", path)
	}
	if int(st.Uid) != os.Geteuid() {
		unix.Close(fd)
		return nil, fmt.Errorf("the instance lock %s belongs to another user: remove it and start Bore again", path)
	}
	// Back to blocking mode; O_NONBLOCK only kept the open from hanging
	// on a FIFO planted in the lock's place.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("cannot open the instance lock %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}
