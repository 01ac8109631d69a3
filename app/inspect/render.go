package inspect

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// summary is an item's line in the list, as the page gets it.
type summary struct {
	ID       uint64  `json:"id"`
	Kind     string  `json:"kind"`
	Time     string  `json:"time"`
	Method   string  `json:"method,omitempty"`
	Path     string  `json:"path,omitempty"`
	Status   int     `json:"status,omitempty"`
	State    string  `json:"state"`
	Duration float64 `json:"duration_ms"`
	ReqSize  int64   `json:"req_size"`
	RespSize int64   `json:"resp_size"`
	Proto    string  `json:"proto,omitempty"`
	Note     string  `json:"note,omitempty"`
	Upgrade  string  `json:"upgrade,omitempty"`
	Replays  int     `json:"replays,omitempty"`
}

// Item states.
const (
	statePending  = "pending" // waiting for the request's body or response
	stateDone     = "done"    // complete
	stateNoResp   = "no response"
	stateOpen     = "open"   // a connection still open
	stateClosed   = "closed" // a connection that closed
	stateFinished = "incomplete"
	stateStopped  = "not followed" // inspection stopped before the end
)

func ms(d time.Duration) float64 {
	if d < 0 {
		d = 0
	}
	return float64(d.Microseconds()) / 1000
}

func (it *item) summary() summary {
	s := summary{ID: it.id, Kind: it.kind, Time: it.time.Format(time.RFC3339Nano), Proto: it.proto, Note: it.note}
	closed := it.st != nil && it.st.end.Load() != 0
	if it.kind == kindConn {
		s.State = stateOpen
		if closed {
			s.State = stateClosed
		}
		s.Duration = ms(it.st.duration())
		s.ReqSize, s.RespSize = it.st.in.Load(), it.st.out.Load()
		return s
	}
	ex := it.ex
	s.Method, s.Path, s.Status, s.Upgrade = ex.method, ex.target, ex.status, ex.upgrade
	s.ReqSize, s.RespSize = ex.req.bodySize, ex.resp.bodySize
	s.Note, s.Replays = ex.note, len(ex.replays)
	switch {
	case ex.hasResp && ex.resp.done:
		s.State = stateDone
		s.Duration = ms(ex.doneTime.Sub(it.time))
	case ex.hasResp && (closed || !it.st.inspecting.Load()):
		s.State = stateFinished
		s.Duration = ms(ex.respTime.Sub(it.time))
	case !ex.hasResp && closed:
		s.State = stateNoResp
	case !it.st.inspecting.Load():
		s.State = stateStopped
	default:
		s.State = statePending
		s.Duration = ms(time.Since(it.time))
	}
	return s
}

// detail is everything the page shows for one item.
type detail struct {
	summary
	Host     string          `json:"host,omitempty"`
	Query    [][2]string     `json:"query,omitempty"`
	Info     []int           `json:"informational,omitempty"`
	StatusTx string          `json:"status_text,omitempty"`
	Req      *messageView    `json:"request,omitempty"`
	Resp     *messageView    `json:"response,omitempty"`
	Replays  []replayView    `json:"replays,omitempty"`
	Conn     *connectionView `json:"connection,omitempty"`
	Editable *editable       `json:"editable,omitempty"`
}

type connectionView struct {
	BytesIn  int64   `json:"bytes_in"`
	BytesOut int64   `json:"bytes_out"`
	Duration float64 `json:"duration_ms"`
	Open     bool    `json:"open"`
}

// messageView is one message: headers, the body rendered for reading,
// and the raw bytes.
type messageView struct {
	Proto   string      `json:"proto"`
	Headers [][2]string `json:"headers"`
	Body    bodyView    `json:"body"`
	Err     string      `json:"error,omitempty"`
	Raw     string      `json:"raw"`
	RawHex  string      `json:"raw_hex"`
	RawSize int64       `json:"raw_size"`
	RawKept int         `json:"raw_kept"`
}

// bodyView is a body rendered for reading.
type bodyView struct {
	// Kind is "empty", "json", "form", "text" or "binary".
	Kind      string      `json:"kind"`
	Text      string      `json:"text,omitempty"`
	Form      [][2]string `json:"form,omitempty"`
	Size      int64       `json:"size"`
	Kept      int         `json:"kept"`
	Truncated bool        `json:"truncated"`
	Complete  bool        `json:"complete"`
	Decoded   string      `json:"decoded,omitempty"` // "gzip" when shown decompressed
}

// editable is the request as the replay form starts with it.
type editable struct {
	Method    string `json:"method"`
	Target    string `json:"target"`
	Headers   string `json:"headers"`
	Body      string `json:"body"`
	Base64    bool   `json:"base64"`
	Truncated bool   `json:"truncated"`
}

func (it *item) detail() detail {
	d := detail{summary: it.summary()}
	if it.kind == kindConn {
		d.Conn = &connectionView{
			BytesIn: it.st.in.Load(), BytesOut: it.st.out.Load(),
			Duration: ms(it.st.duration()), Open: it.st.end.Load() == 0,
		}
		return d
	}
	ex := it.ex
	d.Host, d.Info, d.StatusTx = ex.host, ex.info, ex.statusText
	if u, err := url.ParseRequestURI(ex.target); err == nil {
		d.Query = orderedPairs(u.RawQuery)
	}
	d.Req = viewMessage(&ex.req)
	if ex.hasResp {
		d.Resp = viewMessage(&ex.resp)
	}
	for _, r := range ex.replays {
		d.Replays = append(d.Replays, r.view())
	}
	d.Editable = editRequest(ex)
	return d
}

func viewMessage(m *message) *messageView {
	return &messageView{
		Proto:   m.proto,
		Headers: sortedHeaders(m.header),
		Body:    renderBody(m.body, m.bodySize, m.done, m.header),
		Err:     m.err,
		Raw:     printable(m.raw),
		RawHex:  hex.Dump(m.raw),
		RawSize: m.rawSize,
		RawKept: len(m.raw),
	}
}

// sortedHeaders lists headers by name (the raw view keeps their order).
func sortedHeaders(h http.Header) [][2]string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][2]string
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// orderedPairs splits a query or form body in its own order.
func orderedPairs(q string) [][2]string {
	var out [][2]string
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// renderBody shows a body as pretty JSON, form fields, text or a hex
// dump, decompressing gzip and deflate bodies for reading.
func renderBody(body []byte, size int64, complete bool, h http.Header) bodyView {
	v := bodyView{Size: size, Kept: len(body), Truncated: int64(len(body)) < size, Complete: complete}
	if len(body) == 0 {
		v.Kind = "empty"
		return v
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))) {
	case "gzip", "x-gzip":
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if dec := readSome(zr, 1<<20); len(dec) > 0 {
				body, v.Decoded = dec, "gzip"
			}
		}
	case "deflate":
		if dec := readSome(flate.NewReader(bytes.NewReader(body)), 1<<20); len(dec) > 0 {
			body, v.Decoded = dec, "deflate"
		}
	}
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	whole := !v.Truncated
	switch {
	case whole && (ct == "application/json" || strings.HasSuffix(ct, "+json") || (ct == "" || ct == "text/plain") && json.Valid(body)):
		var out bytes.Buffer
		if json.Indent(&out, body, "", "  ") == nil {
			v.Kind, v.Text = "json", out.String()
			return v
		}
	case ct == "application/x-www-form-urlencoded" && isText(body):
		v.Kind, v.Form, v.Text = "form", orderedPairs(string(body)), string(body)
		return v
	}
	if isText(body) {
		v.Kind, v.Text = "text", strings.ToValidUTF8(string(body), "\uFFFD")
		return v
	}
	v.Kind, v.Text = "binary", hex.Dump(body)
	return v
}

// readSome reads at most max bytes from r, keeping what it got before
// any error (a truncated gzip stream still shows its start).
func readSome(r io.Reader, max int64) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, max))
	return b
}

// isText reports whether b reads as text: valid UTF-8 (allowing a rune
// cut at the end) with few control characters.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		// A body kept up to a cap may end inside a rune.
		for i := 1; i <= 3 && i < len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	if !utf8.Valid(b) {
		return false
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			ctl++
		}
	}
	return ctl == 0
}

// printable renders raw bytes as text: line ends as lines, other control
// bytes and invalid UTF-8 as \xNN.
func printable(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			sb.WriteString(`\x` + hex.EncodeToString(b[:1]))
			n = 1
		case r == '\r' && len(b) > 1 && b[1] == '\n':
			sb.WriteString("\n")
			n = 2
		case r == '\n' || r == '\t':
			sb.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			sb.WriteString(`\x` + hex.EncodeToString(b[:1]))
		default:
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// editRequest is the captured request as the replay form shows it.
func editRequest(ex *exchange) *editable {
	e := &editable{Method: ex.method, Target: ex.target, Truncated: int64(len(ex.req.body)) < ex.req.bodySize}
	var hb strings.Builder
	if ex.host != "" {
		hb.WriteString("Host: " + ex.host + "\n")
	}
	for _, kv := range sortedHeaders(ex.req.header) {
		if hopHeader(kv[0]) {
			continue
		}
		hb.WriteString(kv[0] + ": " + kv[1] + "\n")
	}
	e.Headers = hb.String()
	if utf8.Valid(ex.req.body) {
		e.Body = string(ex.req.body)
	} else {
		e.Body, e.Base64 = encodeBase64(ex.req.body), true
	}
	return e
}

// hopHeader names headers a replay sets itself.
func hopHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
		"Proxy-Connection", "Te", "Trailer", "Upgrade", "Expect":
		return true
	}
	return false
}
