package inspect

import (
	"errors"
	"io"
	"sync"
)

// errBehind ends a feed whose parser fell behind the traffic: the feed
// would have had to hold more than its cap, so inspection of that stream
// stops and the traffic goes on untouched.
var errBehind = errors.New("inspection stopped: the parser fell behind the traffic")

// errStopped ends a feed whose connection is no longer inspected.
var errStopped = errors.New("inspection stopped")

// feed carries a copy of one direction of a connection's bytes from the
// tunnel's copy loop to a parser goroutine. Writes never block on the
// parser: a write that would take the feed past its cap ends the feed
// instead (errBehind), so a slow parser costs inspection, never traffic.
type feed struct {
	mu     sync.Mutex
	cond   sync.Cond
	data   []byte
	r      int
	max    int
	err    error // set once: the reader sees it after the buffered bytes
	closed bool
	// skip is how many more bytes to drop as they arrive: a body's part
	// past the cap need not be copied at all.
	skip int64
}

func newFeed(max int) *feed {
	f := &feed{max: max}
	f.cond.L = &f.mu
	return f
}

// write copies p into the feed, or ends the feed if p does not fit. It
// reports whether the feed is still open.
func (f *feed) write(p []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	if f.skip > 0 {
		k := min(f.skip, int64(len(p)))
		f.skip -= k
		p = p[k:]
		if f.skip == 0 {
			f.cond.Broadcast()
		}
		if len(p) == 0 {
			return true
		}
	}
	if len(f.data)-f.r+len(p) > f.max {
		f.data, f.r = nil, 0
		f.err, f.closed = errBehind, true
		f.cond.Broadcast()
		return false
	}
	if f.r > 0 && f.r == len(f.data) {
		f.data, f.r = f.data[:0], 0
	} else if f.r > 0 && len(f.data)+len(p) > cap(f.data) {
		// Move the unread bytes down before growing.
		n := copy(f.data, f.data[f.r:])
		f.data, f.r = f.data[:n], 0
	}
	f.data = append(f.data, p...)
	f.cond.Signal()
	return true
}

// close ends the feed: the reader gets the bytes already written, then
// err (io.EOF for a clean end). Discard drops the buffered bytes too.
func (f *feed) close(err error, discard bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if discard {
		f.data, f.r = nil, 0
	}
	if f.closed {
		if discard && f.err == io.EOF {
			f.err = err
		}
		return
	}
	f.err, f.closed = err, true
	f.cond.Broadcast()
}

// Read blocks until bytes are available or the feed ends.
func (f *feed) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.r == len(f.data) && !f.closed {
		f.cond.Wait()
	}
	if f.r == len(f.data) {
		return 0, f.err
	}
	n := copy(p, f.data[f.r:])
	f.r += n
	if f.r == len(f.data) {
		f.data, f.r = f.data[:0], 0
		if cap(f.data) > 64<<10 {
			f.data = nil // give a burst's buffer back
		}
	}
	return n, nil
}

// drop skips the next n bytes of the stream: those buffered now and those
// still to come. The reader's next bytes are the ones after them.
func (f *feed) drop(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := min(n, int64(len(f.data)-f.r))
	f.r += int(k)
	f.skip = n - k
}

// waitDropped blocks until the bytes drop skips have all arrived, and
// returns the feed's error if it ended first.
func (f *feed) waitDropped() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.skip > 0 && !f.closed {
		f.cond.Wait()
	}
	if f.skip > 0 {
		return f.err
	}
	return nil
}
