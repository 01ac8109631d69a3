package inspect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// maxReplays is how many replays an exchange keeps, newest last.
const maxReplays = 5

// replayTimeout bounds one replay, from dialing to the end of the body.
const replayTimeout = 30 * time.Second

// replayRequest is the (possibly edited) request the page asks to send.
type replayRequest struct {
	Method  string `json:"method"`
	Target  string `json:"target"`
	Headers string `json:"headers"` // "Name: value" lines
	Body    string `json:"body"`
	Base64  bool   `json:"base64"` // Body is base64
}

// replayResult is one replay's outcome, kept with its exchange.
type replayResult struct {
	time       time.Time
	method     string
	target     string
	reqHeader  http.Header
	host       string
	reqBody    []byte
	status     int
	statusText string
	proto      string
	header     http.Header
	body       []byte
	bodySize   int64
	complete   bool
	duration   time.Duration
	err        string
}

func (r *replayResult) size() int {
	m := message{header: r.header, body: r.body}
	q := message{header: r.reqHeader, body: r.reqBody}
	return msgSize(&m) + msgSize(&q) + len(r.target) + len(r.err) + itemOverhead
}

// replayView is a replay as the page shows it.
type replayView struct {
	Time       string      `json:"time"`
	Method     string      `json:"method"`
	Target     string      `json:"target"`
	Host       string      `json:"host,omitempty"`
	ReqHeaders [][2]string `json:"request_headers"`
	ReqBody    bodyView    `json:"request_body"`
	Status     int         `json:"status,omitempty"`
	StatusText string      `json:"status_text,omitempty"`
	Proto      string      `json:"proto,omitempty"`
	Headers    [][2]string `json:"headers,omitempty"`
	Body       bodyView    `json:"body"`
	Duration   float64     `json:"duration_ms"`
	Err        string      `json:"error,omitempty"`
}

func (r *replayResult) view() replayView {
	return replayView{
		Time:       r.time.Format(time.RFC3339Nano),
		Method:     r.method,
		Target:     r.target,
		Host:       r.host,
		ReqHeaders: sortedHeaders(r.reqHeader),
		ReqBody:    renderBody(r.reqBody, int64(len(r.reqBody)), true, r.reqHeader),
		Status:     r.status,
		StatusText: r.statusText,
		Proto:      r.proto,
		Headers:    sortedHeaders(r.header),
		Body:       renderBody(r.body, r.bodySize, r.complete, r.header),
		Duration:   ms(r.duration),
		Err:        r.err,
	}
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// errBadReplay is a replay request the page got wrong.
type errBadReplay struct{ msg string }

func (e *errBadReplay) Error() string { return e.msg }

// buildReplay turns the page's request into an *http.Request for the
// local service.
func (in *Inspector) buildReplay(ctx context.Context, rr replayRequest) (*http.Request, []byte, error) {
	method := strings.TrimSpace(rr.Method)
	if method == "" {
		method = http.MethodGet
	}
	target := strings.TrimSpace(rr.Target)
	if !strings.HasPrefix(target, "/") {
		return nil, nil, &errBadReplay{"the path must start with /"}
	}
	body := []byte(rr.Body)
	if rr.Base64 {
		b, err := base64.StdEncoding.DecodeString(rr.Body)
		if err != nil {
			return nil, nil, &errBadReplay{"the body is not valid base64"}
		}
		body = b
	}
	header := http.Header{}
	host := ""
	tr := textproto.NewReader(bufio.NewReader(strings.NewReader(strings.TrimSpace(rr.Headers) + "\r\n\r\n")))
	mh, err := tr.ReadMIMEHeader()
	if err != nil && strings.TrimSpace(rr.Headers) != "" {
		return nil, nil, &errBadReplay{"headers must be \"Name: value\" lines: " + err.Error()}
	}
	for k, vs := range mh {
		if k == "Host" {
			host = vs[0]
			continue
		}
		if hopHeader(k) {
			continue
		}
		header[k] = vs
	}
	if _, ok := header["User-Agent"]; !ok {
		header["User-Agent"] = []string{""} // send none, as the original did not
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+in.opts.Target+target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, &errBadReplay{"cannot build the request: " + err.Error()}
	}
	req.Header = header
	if host != "" {
		req.Host = host
	}
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	return req, body, nil
}

// replay sends rr to the local service and keeps the result with it.
func (in *Inspector) replay(ctx context.Context, it *item, rr replayRequest) (replayView, error) {
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	req, body, err := in.buildReplay(ctx, rr)
	if err != nil {
		return replayView{}, err
	}
	tr := &http.Transport{
		Proxy:              nil,
		DialContext:        (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableCompression: true,
		DisableKeepAlives:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res := &replayResult{
		time: time.Now(), method: req.Method, target: req.URL.RequestURI(), host: req.Host,
		reqHeader: req.Header.Clone(), reqBody: body,
	}
	if len(res.reqBody) > in.opts.BodyCap {
		res.reqBody = res.reqBody[:in.opts.BodyCap]
	}
	resp, err := client.Do(req)
	if err != nil {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			res.err = fmt.Sprintf("the local service did not answer within %v", replayTimeout)
		default:
			res.err = "could not reach the local service at " + in.opts.Target + ": " + unwrapURLErr(err)
		}
	} else {
		res.status, res.statusText, res.proto = resp.StatusCode, statusText(resp), resp.Proto
		res.header = resp.Header
		b, n, berr := capture(resp.Body, in.opts.BodyCap)
		resp.Body.Close()
		res.body, res.bodySize, res.complete = b, n, berr == nil
		if berr != nil {
			res.err = "response body incomplete: " + berr.Error()
		}
	}
	res.duration = time.Since(res.time)
	in.store.update(it, func(it *item) {
		it.ex.replays = append(it.ex.replays, res)
		if len(it.ex.replays) > maxReplays {
			it.ex.replays = it.ex.replays[len(it.ex.replays)-maxReplays:]
		}
	})
	return res.view(), nil
}

func unwrapURLErr(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			return op.Err.Error()
		}
		err = u
	}
}
