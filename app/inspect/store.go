package inspect

import (
	"net/http"
	"sync"
	"time"
)

// Item kinds in the list.
const (
	kindHTTP = "http" // one HTTP/1.x request and its response
	kindConn = "conn" // a connection shown as bytes each way
)

// message is one side of an exchange as captured.
type message struct {
	proto    string
	header   http.Header
	body     []byte // the first BodyCap bytes of the (de-chunked) body
	bodySize int64  // the body's full length as seen
	done     bool   // the whole body has been seen
	err      string // why the message ended early
	raw      []byte // the first RawCap bytes as on the wire
	rawSize  int64  // the whole message's length on the wire
}

// exchange is an HTTP/1.x request and, once seen, its response.
type exchange struct {
	method, target, host string
	req                  message
	info                 []int // 1xx statuses before the final one
	status               int
	statusText           string
	resp                 message
	hasResp              bool
	respTime             time.Time
	doneTime             time.Time
	upgrade              string
	note                 string
	replays              []*replayResult
}

// item is one line of the list: an exchange or a connection. Its fields
// are guarded by the store's mutex.
type item struct {
	id   uint64
	kind string
	st   *connState
	time time.Time
	size int // bytes the store accounts for
	gone bool

	ex *exchange // kindHTTP

	proto string // kindConn: "TCP", "TLS", "HTTP/2", "WebSocket" ...
	note  string
}

// store keeps the newest items within a count and a byte budget, and
// tells subscribers what changed. Parsers never wait on subscribers.
type store struct {
	mu       sync.Mutex
	items    []*item // oldest first
	byID     map[uint64]*item
	nextID   uint64
	bytes    int
	maxItems int
	maxBytes int
	subs     map[*subscriber]struct{}
}

// subscriber is one live view (an event stream). Changes collect in dirty
// until the view takes them; a view that falls far behind is told to
// reload instead.
type subscriber struct {
	dirty map[uint64]struct{}
	reset bool
	wake  chan struct{}
}

func newStore(maxItems, maxBytes int) *store {
	return &store{
		byID:     make(map[uint64]*item),
		maxItems: maxItems,
		maxBytes: maxBytes,
		subs:     make(map[*subscriber]struct{}),
	}
}

// add appends it (newest) and returns it with its ID set.
func (s *store) add(it *item) *item {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	it.id = s.nextID
	it.size = itemSize(it)
	s.items = append(s.items, it)
	s.byID[it.id] = it
	s.bytes += it.size
	s.evictLocked()
	s.notifyLocked(it.id)
	return it
}

// update applies f to it under the lock and tells subscribers.
func (s *store) update(it *item, f func(*item)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(it)
	if it.gone {
		return
	}
	n := itemSize(it)
	s.bytes += n - it.size
	it.size = n
	s.evictLocked()
	s.notifyLocked(it.id)
}

func (s *store) evictLocked() {
	k := 0
	for len(s.items)-k > s.maxItems || (s.bytes > s.maxBytes && len(s.items)-k > 1) {
		old := s.items[k]
		s.items[k] = nil
		k++
		old.gone = true
		delete(s.byID, old.id)
		s.bytes -= old.size
		s.notifyLocked(old.id)
	}
	if k > 0 {
		s.items = s.items[k:]
	}
}

// clear drops every item.
func (s *store) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		it.gone = true
	}
	s.items, s.bytes = nil, 0
	s.byID = make(map[uint64]*item)
	for sub := range s.subs {
		sub.dirty = make(map[uint64]struct{})
		sub.reset = true
		wake(sub)
	}
}

func (s *store) notifyLocked(id uint64) {
	for sub := range s.subs {
		if sub.reset {
			continue
		}
		if len(sub.dirty) >= 2*s.maxItems {
			sub.dirty = make(map[uint64]struct{})
			sub.reset = true
		} else {
			sub.dirty[id] = struct{}{}
		}
		wake(sub)
	}
}

func wake(sub *subscriber) {
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (s *store) subscribe() *subscriber {
	sub := &subscriber{dirty: make(map[uint64]struct{}), wake: make(chan struct{}, 1)}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	return sub
}

func (s *store) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	delete(s.subs, sub)
	s.mu.Unlock()
}

// take returns what changed for sub since the last call: summaries of
// items still kept, IDs of items dropped, or reset when the view must
// reload the whole list.
func (s *store) take(sub *subscriber) (changed []summary, removed []uint64, reset bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.reset {
		sub.reset = false
		return nil, nil, true
	}
	for id := range sub.dirty {
		if it, ok := s.byID[id]; ok {
			changed = append(changed, it.summary())
		} else {
			removed = append(removed, id)
		}
	}
	sub.dirty = make(map[uint64]struct{})
	return changed, removed, false
}

// list returns summaries of every kept item, newest first.
func (s *store) list() []summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]summary, 0, len(s.items))
	for i := len(s.items) - 1; i >= 0; i-- {
		out = append(out, s.items[i].summary())
	}
	return out
}

// get returns the details of one item.
func (s *store) get(id uint64) (detail, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.byID[id]
	if !ok {
		return detail{}, false
	}
	return it.detail(), true
}

// retained returns how many items and captured bytes the store holds.
func (s *store) retained() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items), s.bytes
}

// itemOverhead is what an item costs beyond its captured bytes.
const itemOverhead = 512

func itemSize(it *item) int {
	n := itemOverhead + len(it.note) + len(it.proto)
	if ex := it.ex; ex != nil {
		n += len(ex.method) + len(ex.target) + len(ex.host) + len(ex.note)
		n += msgSize(&ex.req) + msgSize(&ex.resp)
		for _, r := range ex.replays {
			n += r.size()
		}
	}
	return n
}

func msgSize(m *message) int {
	n := cap(m.body) + cap(m.raw) + len(m.err)
	for k, vs := range m.header {
		n += len(k) + 16
		for _, v := range vs {
			n += len(v) + 16
		}
	}
	return n
}
