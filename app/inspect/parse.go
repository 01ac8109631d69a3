package inspect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// headerLimit caps a message's start line and headers, as an HTTP
// server's MaxHeaderBytes does. A longer head (a 1 GiB header line, say)
// stops inspection of that connection; the bytes still flow.
const headerLimit = 64 << 10

// errHeadTooLarge is returned by a source whose head limit ran out.
var errHeadTooLarge = fmt.Errorf("headers longer than %d KiB", headerLimit>>10)

// source is what a parser's bufio.Reader reads: one feed, with a limit on
// the bytes one message head may take, and a recorder that keeps the
// first bytes of the current message as they were on the wire.
type source struct {
	f     *feed
	limit int64 // bytes left for this head; negative: no limit
	n     int64 // bytes delivered so far

	recording bool
	rec       []byte
	recMax    int
	recStart  int64 // stream offset of rec[0]
}

func (s *source) Read(p []byte) (int, error) {
	if s.limit == 0 {
		return 0, errHeadTooLarge
	}
	if s.limit > 0 && int64(len(p)) > s.limit {
		p = p[:s.limit]
	}
	n, err := s.f.Read(p)
	if s.limit > 0 {
		s.limit -= int64(n)
	}
	s.n += int64(n)
	if s.recording && len(s.rec) < s.recMax {
		s.rec = append(s.rec, p[:min(n, s.recMax-len(s.rec))]...)
	}
	return n, err
}

// begin starts recording a message that starts at br's read position.
func (s *source) begin(br *bufio.Reader) {
	buffered, _ := br.Peek(br.Buffered())
	s.recStart = s.n - int64(len(buffered))
	s.rec = make([]byte, 0, min(s.recMax, max(512, len(buffered))))
	s.rec = append(s.rec, buffered[:min(len(buffered), s.recMax)]...)
	s.recording = true
	s.limit = headerLimit
}

// bodyStarts lifts the head limit once the head has been parsed.
func (s *source) bodyStarts() { s.limit = -1 }

// end stops recording at br's read position and returns the message's
// first bytes and its whole length on the wire.
func (s *source) end(br *bufio.Reader) ([]byte, int64) {
	size := s.n - int64(br.Buffered()) - s.recStart
	raw := s.rec
	if int64(len(raw)) > size {
		raw = raw[:size]
	}
	s.rec, s.recording = nil, false
	return raw, size
}

// skip passes over the stream's next n bytes without reading them.
func (s *source) skip(n int64) {
	s.f.drop(n)
	s.n += n
}

// pendingReq is a parsed request waiting for its response.
type pendingReq struct {
	it      *item
	method  string
	upgrade bool          // an Upgrade or CONNECT request
	decided chan struct{} // closed when the final status is known
}

// parseRequests reads requests from the request feed and hands each to
// the response parser.
func (s *connState) parseRequests(pending chan<- *pendingReq) {
	defer s.parserDone()
	defer close(pending)
	src := &source{f: s.req, recMax: s.ins.opts.RawCap}
	br := bufio.NewReaderSize(src, 4096)
	first := true
	for {
		src.limit = headerLimit
		b, err := br.Peek(1)
		if err != nil {
			// A connection that closes without a byte (a browser's
			// preconnect, a port check) is not worth a line.
			return
		}
		if first {
			if b[0] == 0x16 {
				s.becomeConn("TLS", "")
				s.stop(errStopped)
				return
			}
			if b[0] < 'A' || b[0] > 'Z' {
				s.becomeConn("TCP", "")
				s.stop(errStopped)
				return
			}
		}
		start := time.Now()
		src.begin(br)
		req, err := http.ReadRequest(br)
		if err != nil {
			if !s.inspecting.Load() {
				return
			}
			why := parseErr(err)
			if first && !errors.Is(err, errHeadTooLarge) {
				s.becomeConn("TCP", "not HTTP: "+why)
			} else {
				s.becomeConn("HTTP/1.x", "inspection stopped: "+why)
			}
			s.stop(errStopped)
			return
		}
		if req.ProtoMajor != 1 {
			s.becomeConn(req.Proto, "")
			s.stop(errStopped)
			return
		}
		first = false
		s.sawHTTP.Store(true)
		src.bodyStarts()
		p := &pendingReq{
			method:  req.Method,
			upgrade: req.Method == http.MethodConnect || (req.Header.Get("Upgrade") != "" && headerHasToken(req.Header, "Connection", "upgrade")),
			decided: make(chan struct{}),
		}
		p.it = s.ins.store.add(&item{
			kind: kindHTTP,
			st:   s,
			time: start,
			ex: &exchange{
				method: req.Method,
				target: req.RequestURI,
				host:   req.Host,
				req:    message{proto: req.Proto, header: req.Header},
			},
		})
		select {
		case pending <- p:
		case <-s.quit:
			return
		}
		body, size, berr := s.captureBody(br, src, req.Body, req.ContentLength)
		raw, rawSize := src.end(br)
		s.ins.store.update(p.it, func(it *item) {
			m := &it.ex.req
			m.body, m.bodySize, m.raw, m.rawSize = body, size, raw, rawSize
			m.done = berr == nil
			if berr != nil {
				m.err = "body incomplete: " + parseErr(berr)
			}
		})
		if berr != nil {
			if s.inspecting.Load() && !errors.Is(berr, io.ErrUnexpectedEOF) {
				s.becomeConn("HTTP/1.x", "inspection stopped: "+parseErr(berr))
				s.stop(errStopped)
			}
			return
		}
		if p.upgrade {
			// What follows depends on the answer: raw bytes after a
			// 101 (or a 2xx to CONNECT), more requests otherwise.
			select {
			case <-p.decided:
			case <-s.quit:
				return
			case <-s.respDone:
				return
			}
			if !s.inspecting.Load() {
				return
			}
		}
	}
}

// parseResponses reads the response to each pending request in turn.
func (s *connState) parseResponses(pending <-chan *pendingReq) {
	defer s.parserDone()
	defer close(s.respDone)
	src := &source{f: s.resp, recMax: s.ins.opts.RawCap}
	br := bufio.NewReaderSize(src, 4096)
	var p *pendingReq
	defer func() {
		if p != nil {
			close(p.decided)
		}
	}()
	for {
		src.limit = headerLimit
		if _, err := br.Peek(1); err != nil {
			if p != nil && s.inspecting.Load() {
				s.ins.store.update(p.it, func(it *item) { it.ex.note = "no response: the connection closed" })
			}
			return
		}
		if !s.sawReq.Load() {
			// The service spoke first: not HTTP.
			s.becomeConn("TCP", "")
			s.stop(errStopped)
			return
		}
		if p == nil {
			var ok bool
			select {
			case p, ok = <-pending:
				if !ok {
					p = nil
					return
				}
			case <-s.quit:
				return
			}
		}
		start := time.Now()
		src.begin(br)
		resp, err := http.ReadResponse(br, &http.Request{Method: p.method})
		if err != nil {
			if s.inspecting.Load() {
				s.ins.store.update(p.it, func(it *item) { it.ex.note = "response unreadable: " + parseErr(err) })
				s.becomeConn("HTTP/1.x", "inspection stopped: "+parseErr(err))
				s.stop(errStopped)
			}
			return
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			src.end(br)
			s.ins.store.update(p.it, func(it *item) { it.ex.info = append(it.ex.info, resp.StatusCode) })
			continue // the final response follows
		}
		src.bodyStarts()
		upgraded := resp.StatusCode == http.StatusSwitchingProtocols ||
			(p.method == http.MethodConnect && resp.StatusCode/100 == 2)
		cur := p
		s.ins.store.update(cur.it, func(it *item) {
			ex := it.ex
			ex.status, ex.statusText = resp.StatusCode, statusText(resp)
			ex.resp = message{proto: resp.Proto, header: resp.Header}
			ex.hasResp, ex.respTime = true, start
		})
		if upgraded {
			raw, rawSize := src.end(br)
			proto := "Upgrade"
			switch {
			case p.method == http.MethodConnect:
				proto = "CONNECT tunnel"
			case strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"):
				proto = "WebSocket"
			case resp.Header.Get("Upgrade") != "":
				proto = resp.Header.Get("Upgrade")
			}
			now := time.Now()
			s.ins.store.update(cur.it, func(it *item) {
				ex := it.ex
				ex.resp.raw, ex.resp.rawSize, ex.resp.done = raw, rawSize, true
				ex.doneTime, ex.upgrade = now, proto
			})
			s.becomeConn(proto, "")
			s.stop(errStopped)
			return
		}
		if cur.upgrade {
			close(cur.decided)
		}
		p = nil
		body, size, berr := s.captureBody(br, src, resp.Body, resp.ContentLength)
		raw, rawSize := src.end(br)
		now := time.Now()
		s.ins.store.update(cur.it, func(it *item) {
			m := &it.ex.resp
			m.body, m.bodySize, m.raw, m.rawSize = body, size, raw, rawSize
			m.done = berr == nil
			if berr != nil {
				m.err = "body incomplete: " + parseErr(berr)
			}
			it.ex.doneTime = now
		})
		if !cur.upgrade {
			close(cur.decided)
		}
		if berr != nil {
			if s.inspecting.Load() && !errors.Is(berr, io.ErrUnexpectedEOF) {
				s.becomeConn("HTTP/1.x", "inspection stopped: "+parseErr(berr))
				s.stop(errStopped)
			}
			return
		}
	}
}

// captureBody reads a message's body, keeping its first BodyCap bytes.
// When the body's length is known, the rest is skipped in the feed
// without being copied; otherwise it is read and thrown away.
func (s *connState) captureBody(br *bufio.Reader, src *source, body io.Reader, length int64) ([]byte, int64, error) {
	max := s.ins.opts.BodyCap
	if length <= int64(max) {
		return capture(body, max)
	}
	kept := make([]byte, max)
	n, err := io.ReadFull(body, kept)
	if err != nil {
		return kept[:n], int64(n), err
	}
	// What bufio holds is the body's too; past that, skip in the feed.
	rest := length - int64(max)
	d, _ := br.Discard(int(min(rest, int64(br.Buffered()))))
	rest -= int64(d)
	if rest > 0 {
		src.skip(rest)
		if err := s.waitSkipped(src); err != nil {
			return kept, int64(max), err
		}
	}
	return kept, length, nil
}

func (s *connState) waitSkipped(src *source) error {
	return src.f.waitDropped()
}

// capture reads r to its end, keeping its first max bytes.
func capture(r io.Reader, max int) ([]byte, int64, error) {
	var kept bytes.Buffer
	n, err := io.Copy(&kept, io.LimitReader(r, int64(max)))
	b := kept.Bytes()
	if len(b) == 0 {
		b = nil
	}
	if err != nil || n < int64(max) {
		return b, n, err
	}
	// Most bodies end within the cap: look before taking a big buffer.
	var one [1]byte
	k, err := r.Read(one[:])
	n += int64(k)
	if err == io.EOF {
		return b, n, nil
	}
	if err != nil {
		return b, n, err
	}
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return b, n, nil
		}
		if err != nil {
			return b, n, err
		}
	}
}

func statusText(resp *http.Response) string {
	if _, text, ok := strings.Cut(resp.Status, " "); ok {
		return text
	}
	return http.StatusText(resp.StatusCode)
}

// parseErr words a parse error for the page.
func parseErr(err error) string {
	switch {
	case errors.Is(err, errHeadTooLarge):
		return errHeadTooLarge.Error()
	case errors.Is(err, errBehind):
		return "the parser fell behind the traffic"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the connection closed mid-message"
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// headerHasToken reports whether a comma-separated header holds token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
