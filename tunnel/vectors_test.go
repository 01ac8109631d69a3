package tunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// vecScenario is testdata/vectors/<scenario>.json: every control-port
// connection of one capture of bore 0.5.2.
type vecScenario struct {
	Scenario    string    `json:"scenario"`
	Connections []vecConn `json:"connections"`
}

// vecConn is one captured connection: the client's and the server's byte
// streams and the chunk/close events.
type vecConn struct {
	Conn      int        `json:"conn"`
	Role      string     `json:"role"`
	C2SHex    string     `json:"c2s_hex"`
	S2CHex    string     `json:"s2c_hex"`
	C2SFrames []string   `json:"c2s_frames"`
	S2CFrames []string   `json:"s2c_frames"`
	C2SRawHex string     `json:"c2s_raw_after_frames_hex"`
	S2CRawHex string     `json:"s2c_raw_after_frames_hex"`
	Events    []vecEvent `json:"events"`
}

// vecEvent is one chunk, EOF or error seen by the capturing proxy.
type vecEvent struct {
	T     float64 `json:"t"`
	Event string  `json:"event"`
	Dir   string  `json:"dir"`
	Hex   string  `json:"hex"`
}

func (c vecConn) c2sString(t testing.TB) string { return string(mustHex(t, c.C2SHex)) }
func (c vecConn) s2cString(t testing.TB) string { return string(mustHex(t, c.S2CHex)) }

func loadScenario(t testing.TB, name string) vecScenario {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var sc vecScenario
	if err := json.Unmarshal(data, &sc); err != nil {
		t.Fatalf("testdata/vectors/%s.json: %v", name, err)
	}
	if sc.Scenario != name || len(sc.Connections) == 0 {
		t.Fatalf("testdata/vectors/%s.json holds scenario %q with %d connections", name, sc.Scenario, len(sc.Connections))
	}
	return sc
}

// replayCase is a captured server-side scenario and the server settings it
// was captured with.
type replayCase struct {
	name             string
	minPort, maxPort int
	secret           string
	// halfClose lists connections whose client shut its write side down
	// right after sending (f/9: unterminated frame then EOF; f2/8: EOF
	// after the Challenge).
	halfClose map[int]bool
	// expire: the visitor is left unclaimed until it expires, then the
	// Accept comes (e3).
	expire bool
	// visitorHalfClose: the visitor sends, then shuts its write side down
	// and still expects the reply (h, with bore 0.6.0's behaviour).
	visitorHalfClose bool
}

var replayCases = []replayCase{
	{name: "a-nosecret", minPort: 20000, maxPort: 20189},
	{name: "a2-port0-random", minPort: 20000, maxPort: 20189},
	{name: "b-secret", minPort: 20000, maxPort: 20189, secret: "bore-test-secret"},
	{name: "c-wrong-secret", minPort: 20000, maxPort: 20189, secret: "bore-test-secret"},
	{name: "c2-client-without-secret", minPort: 20000, maxPort: 20189, secret: "bore-test-secret"},
	{name: "c3-client-secret-server-without", minPort: 20000, maxPort: 20189},
	{name: "d1-port-out-of-range", minPort: 20000, maxPort: 20099},
	{name: "d2-port-in-use", minPort: 20000, maxPort: 20189},
	{name: "d3-no-free-port", minPort: 20030, maxPort: 20031},
	{name: "e1-accept-unknown-uuid", minPort: 20000, maxPort: 20189},
	{name: "e2-accept-unknown-uuid-with-secret", minPort: 20000, maxPort: 20189, secret: "bore-test-secret"},
	{name: "e3-pending-connection-expiry", minPort: 20000, maxPort: 20189, expire: true},
	{name: "f-server-probes-nosecret", minPort: 20000, maxPort: 20189, halfClose: map[int]bool{9: true}},
	{name: "f2-server-probes-secret", minPort: 20000, maxPort: 20189, secret: "bore-test-secret", halfClose: map[int]bool{8: true}},
	{name: "f3-json-and-uuid-leniency", minPort: 20000, maxPort: 20189},
	{name: "g-accept-frame-plus-data-in-one-write", minPort: 20000, maxPort: 20189},
	{name: "h-visitor-half-close", minPort: 20000, maxPort: 20189, visitorHalfClose: true},
}

// The captures used tunnel ports 20000-20199. A replay moves them to a
// block of the same size that is free here.
const (
	capturedPortBase = 20000
	portBlock        = 200
	// Blocks are taken from 21000-32599: 5-digit ports (so padded frames
	// keep their length) below Linux's ephemeral range.
	firstBlock = 21000
	numBlocks  = 58
)

// vecClock is a clock whose timers fire only when the test says so.
type vecClock struct {
	mu  sync.Mutex
	fns []*vecTimer
}

type vecTimer struct {
	f    func()
	done bool
}

// AfterFunc records f; fire runs it.
func (c *vecClock) AfterFunc(_ time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	vt := &vecTimer{f: f}
	c.fns = append(c.fns, vt)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !vt.done
		vt.done = true
		return was
	}
}

// fire runs every timer not stopped yet and returns how many ran.
func (c *vecClock) fire() int {
	c.mu.Lock()
	var run []func()
	for _, vt := range c.fns {
		if !vt.done {
			vt.done = true
			run = append(run, vt.f)
		}
	}
	c.fns = nil
	c.mu.Unlock()
	for _, f := range run {
		f()
	}
	return len(run)
}

var (
	helloPortRe = regexp.MustCompile(`("Hello"\s*:\s*)(\d+)`)
	answerRe    = regexp.MustCompile(`("Authenticate":")([^"]*)(")`)
	acceptIDRe  = regexp.MustCompile(`("Accept":")([^"]*)(")`)
	serverIDRe  = regexp.MustCompile(`"(Challenge|Connection)":"([0-9a-f-]{36})"`)
)

// TestReplayServerScenarios plays the client side of every captured
// server-side conversation against our Server and checks our server sends
// what bore sent, and closes when bore closed.
func TestReplayServerScenarios(t *testing.T) {
	t.Parallel()
	blocks := rand.Perm(numBlocks)
	for _, rc := range replayCases {
		sc := loadScenario(t, rc.name)
		var base int
		base, blocks = freeBlock(t, sc, rc, blocks)
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			r := newReplay(t, sc, rc, base)
			r.run()
		})
	}
}

// freeBlock finds a port block where every port the scenario binds is free
// now, and returns its base and the blocks still unused.
func freeBlock(t *testing.T, sc vecScenario, rc replayCase, blocks []int) (int, []int) {
	t.Helper()
	var need []int
	for _, c := range sc.Connections {
		for _, m := range helloPortRe.FindAllStringSubmatch(c.c2sString(t), -1) {
			p, _ := strconv.Atoi(m[2])
			if p >= rc.minPort && p <= rc.maxPort {
				need = append(need, p-capturedPortBase)
			}
		}
	}
	if rc.maxPort-rc.minPort < 10 {
		for p := rc.minPort; p <= rc.maxPort; p++ {
			need = append(need, p-capturedPortBase)
		}
	}
	for len(blocks) > 0 {
		base := firstBlock + portBlock*blocks[0]
		blocks = blocks[1:]
		ok := true
		for _, off := range need {
			ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(base+off))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return base, blocks
		}
	}
	t.Fatalf("no free block of %d ports for %s", portBlock, rc.name)
	return 0, nil
}

// replay runs one scenario.
type replay struct {
	t     *testing.T
	sc    vecScenario
	rc    replayCase
	base  int
	srv   *Server
	clock *vecClock
	addr  string
	// ids maps captured Connection ids to ours.
	ids map[uuid.UUID]uuid.UUID
	// tunnels are the open control connections, by captured conn number.
	tunnels []*replayTunnel
}

// replayTunnel is an open control connection and what it received.
type replayTunnel struct {
	vc     vecConn
	conn   net.Conn
	fr     *frameReader
	port   int      // our public port
	frames []string // frames received so far
}

func newReplay(t *testing.T, sc vecScenario, rc replayCase, base int) *replay {
	r := &replay{t: t, sc: sc, rc: rc, base: base, clock: &vecClock{}, ids: map[uuid.UUID]uuid.UUID{}}
	srv, err := NewServer(ServerConfig{
		MinPort:     uint16(r.mapPort(rc.minPort)),
		MaxPort:     uint16(r.mapPort(rc.maxPort)),
		Secret:      rc.secret,
		BindTunnels: "127.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	// A short handshake timeout keeps the scenarios that wait for it fast.
	// Idle heartbeats are left out (TestHeartbeatSequence covers them), so
	// the heartbeats seen are exactly those bore sends at once after Hello
	// and after each Connection. The fake clock expires pending visitors
	// only when the test fires it.
	srv.handshakeTimeout = time.Second
	srv.heartbeat = time.Hour
	srv.clock = r.clock
	r.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return r
}

func (r *replay) mapPort(p int) int {
	if p >= capturedPortBase && p < capturedPortBase+portBlock {
		return p - capturedPortBase + r.base
	}
	return p
}

func (r *replay) run() {
	for _, vc := range r.sc.Connections {
		r.conn(vc)
	}
	for _, tn := range r.tunnels {
		r.finishTunnel(tn)
	}
	if st := r.srv.Stats(); st.Pending != 0 {
		r.t.Errorf("%d visitors still pending", st.Pending)
	}
}

// capturedChallenge returns the Challenge bore sent on vc, if any.
func (r *replay) capturedChallenge(vc vecConn) (uuid.UUID, bool) {
	if len(vc.S2CFrames) == 0 {
		return uuid.UUID{}, false
	}
	var m ServerMessage
	if err := m.UnmarshalJSON([]byte(vc.S2CFrames[0])); err != nil || m.Kind != ServerChallenge {
		return uuid.UUID{}, false
	}
	return m.ID, true
}

// rewriteC2S adapts the bytes a captured client sent to this run: ports
// moved to our block, answers recomputed for our challenge, and Accept
// ids of visitors replaced by ours.
func (r *replay) rewriteC2S(vc vecConn, in string, ourChallenge uuid.UUID) string {
	out := helloPortRe.ReplaceAllStringFunc(in, func(s string) string {
		m := helloPortRe.FindStringSubmatch(s)
		p, _ := strconv.Atoi(m[2])
		return m[1] + strconv.Itoa(r.mapPort(p))
	})
	theirs, hasChallenge := r.capturedChallenge(vc)
	out = answerRe.ReplaceAllStringFunc(out, func(s string) string {
		m := answerRe.FindStringSubmatch(s)
		if !hasChallenge {
			return s
		}
		for _, secret := range []string{"bore-test-secret", "wrong-secret"} {
			a := newAuthenticator(secret)
			if a.validate(theirs, m[2]) {
				ans := a.answer(ourChallenge)
				if m[2] == strings.ToUpper(m[2]) {
					ans = strings.ToUpper(ans)
				}
				return m[1] + ans + m[3]
			}
		}
		return s // a bad answer stays bad
	})
	return acceptIDRe.ReplaceAllStringFunc(out, func(s string) string {
		m := acceptIDRe.FindStringSubmatch(s)
		id, err := uuid.Parse(m[2])
		if ours, ok := r.ids[id]; err == nil && ok {
			return m[1] + ours.String() + m[3]
		}
		return s
	})
}

// visitorFor returns the tunnel whose captured stream announced id.
func (r *replay) visitorFor(id uuid.UUID) *replayTunnel {
	for _, tn := range r.tunnels {
		if strings.Contains(tn.vc.s2cString(r.t), `"Connection":"`+id.String()+`"`) {
			return tn
		}
	}
	return nil
}

// acceptedID returns the id of vc's Accept frame, if it has one.
func acceptedID(vc vecConn) (uuid.UUID, bool) {
	for _, f := range vc.C2SFrames {
		var m ClientMessage
		if m.UnmarshalJSON([]byte(f)) == nil && m.Kind == ClientAccept {
			return m.ID, true
		}
	}
	return uuid.UUID{}, false
}

// newVisitor connects a visitor to tn's public port and waits for the
// Connection it causes, recording our id for the captured one.
func (r *replay) newVisitor(tn *replayTunnel, captured uuid.UUID) *net.TCPConn {
	t := r.t
	v, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(tn.port), 5*time.Second)
	if err != nil {
		t.Fatalf("visitor: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	v.SetDeadline(time.Now().Add(20 * time.Second))
	for {
		f := r.readTunnelFrame(tn)
		var m ServerMessage
		if m.UnmarshalJSON([]byte(f)) == nil && m.Kind == ServerConnection {
			r.ids[captured] = m.ID
			return v.(*net.TCPConn)
		}
	}
}

func (r *replay) readTunnelFrame(tn *replayTunnel) string {
	tn.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := tn.fr.next()
	if err != nil {
		r.t.Fatalf("conn %d: reading the control connection: %v (frames so far %q)", tn.vc.Conn, err, tn.frames)
	}
	tn.frames = append(tn.frames, string(f))
	return string(f)
}

// conn replays one captured connection.
func (r *replay) conn(vc vecConn) {
	t := r.t
	c, err := net.DialTimeout("tcp", r.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	keepOpen := false
	defer func() {
		if !keepOpen {
			c.Close()
		}
	}()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var rec bytes.Buffer
	src := io.TeeReader(c, &rec)
	fr := newFrameReader(src)

	var challenge uuid.UUID
	var first []string
	if _, ok := r.capturedChallenge(vc); ok {
		f, err := fr.next()
		var m ServerMessage
		if err == nil {
			err = m.UnmarshalJSON(f)
		}
		if err != nil || m.Kind != ServerChallenge {
			t.Fatalf("conn %d: first frame %q, %v; want a Challenge", vc.Conn, f, err)
		}
		challenge = m.ID
		first = append(first, string(f))
	}

	tunnel := false
	for _, f := range vc.S2CFrames {
		tunnel = tunnel || strings.HasPrefix(f, `{"Hello":`)
	}
	captured, isAccept := acceptedID(vc)
	var host *replayTunnel
	if isAccept {
		host = r.visitorFor(captured)
	}

	c2s := vc.c2sString(t)
	raw := string(mustHex(t, vc.C2SRawHex))
	frames := c2s[:len(c2s)-len(raw)]
	withFrames := r.sentWithFrames(vc, len(frames))
	later := raw[len(withFrames):]

	var visitor *net.TCPConn
	if host != nil {
		visitor = r.newVisitor(host, captured)
		if r.rc.expire {
			// Leave the visitor unclaimed until it expires: the server
			// must drop it, and then treat the Accept as unknown.
			visitor.Write([]byte("EARLY BYTES\n"))
			if n := r.clock.fire(); n != 1 {
				t.Fatalf("%d expiry timers fired, want 1", n)
			}
			if b, err := io.ReadAll(visitor); len(b) != 0 {
				t.Fatalf("expired visitor got %q, %v; want a close", b, err)
			}
			host = nil
		}
	}

	out := r.rewriteC2S(vc, frames+withFrames, challenge)
	if len(out) > 0 {
		if _, err := c.Write([]byte(out)); err != nil {
			t.Fatalf("conn %d: write: %v", vc.Conn, err)
		}
	}
	if r.rc.halfClose[vc.Conn] {
		c.(*net.TCPConn).CloseWrite()
	}

	switch {
	case tunnel:
		tn := &replayTunnel{vc: vc, conn: c, fr: fr, frames: first}
		for len(tn.frames) < len(first)+2 {
			r.readTunnelFrame(tn)
		}
		var m ServerMessage
		if err := m.UnmarshalJSON([]byte(tn.frames[len(first)])); err != nil || m.Kind != ServerHello {
			t.Fatalf("conn %d: got %q, want a Hello (expected %q)", vc.Conn, tn.frames, vc.S2CFrames)
		}
		tn.port = int(m.Port)
		r.tunnels = append(r.tunnels, tn)
		keepOpen = true // finishTunnel closes it
		return
	case host != nil:
		r.forward(vc, c, fr, src, visitor, later)
	}
	// The server has nothing more to say: it must close, having sent
	// exactly what bore sent.
	rest := io.MultiReader(bytes.NewReader(fr.buffered()), src)
	if _, err := io.Copy(io.Discard, rest); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("conn %d: server did not close: %v (got %q)", vc.Conn, err, rec.String())
	}
	got, want := normS2C(rec.String(), nil), normS2C(vc.s2cString(t), nil)
	if got != want {
		t.Errorf("conn %d (%s): server sent\n  %q\nbore sent\n  %q", vc.Conn, vc.Role, got, want)
	}
}

// sentWithFrames returns the raw bytes the captured client sent in the
// same chunk as the end of its frames (g: Accept frame and data in one
// write).
func (r *replay) sentWithFrames(vc vecConn, framesLen int) string {
	n := 0
	for _, e := range vc.Events {
		if e.Event != "data" || e.Dir != "C>S" {
			continue
		}
		chunk := mustHex(r.t, e.Hex)
		if n < framesLen && n+len(chunk) > framesLen {
			return string(chunk[framesLen-n:])
		}
		n += len(chunk)
	}
	return ""
}

// forward runs the tunnel part of an accept connection: the visitor's
// bytes must reach us, ours the visitor, and the close must pass through.
func (r *replay) forward(vc vecConn, c net.Conn, fr *frameReader, src io.Reader, visitor *net.TCPConn, later string) {
	t := r.t
	fromVisitor := mustHex(t, vc.S2CRawHex)
	toVisitor := mustHex(t, vc.C2SRawHex)
	if _, err := visitor.Write(fromVisitor); err != nil {
		t.Fatalf("visitor write: %v", err)
	}
	if r.rc.visitorHalfClose {
		visitor.CloseWrite()
	}
	in := io.MultiReader(bytes.NewReader(append([]byte(nil), fr.buffered()...)), src)
	got := make([]byte, len(fromVisitor))
	if _, err := io.ReadFull(in, got); err != nil || !bytes.Equal(got, fromVisitor) {
		t.Fatalf("conn %d: accept connection got %q, %v; want the visitor's %q", vc.Conn, got, err, fromVisitor)
	}
	if r.rc.visitorHalfClose {
		// The visitor's half-close reaches us as EOF, and our reply
		// still reaches the visitor (bore 0.6.0).
		if b, err := io.ReadAll(in); len(b) != 0 || err != nil {
			t.Fatalf("conn %d: after the visitor's half-close got %q, %v; want EOF", vc.Conn, b, err)
		}
	}
	if _, err := c.Write([]byte(later)); err != nil {
		t.Fatalf("conn %d: write: %v", vc.Conn, err)
	}
	if r.rc.visitorHalfClose {
		c.(*net.TCPConn).CloseWrite()
		b, err := io.ReadAll(visitor)
		if err != nil || !bytes.Equal(b, toVisitor) {
			t.Fatalf("half-closed visitor got %q, %v; want %q", b, err, toVisitor)
		}
		return
	}
	b := make([]byte, len(toVisitor))
	if _, err := io.ReadFull(visitor, b); err != nil || !bytes.Equal(b, toVisitor) {
		t.Fatalf("visitor got %q, %v; want %q", b, err, toVisitor)
	}
	// The visitor's close reaches the accept connection; conn() checks
	// the server then closes it.
	visitor.Close()
}

// finishTunnel reads the control connection until it holds as many frames
// as bore's (heartbeat runs counted once), compares, and closes it. As idle
// heartbeats are off, a missing heartbeat after a Hello or a Connection
// shows as a read timeout.
func (r *replay) finishTunnel(tn *replayTunnel) {
	t := r.t
	defer tn.conn.Close()
	zero := strings.Contains(tn.vc.c2sString(t), `"Hello":0}`)
	portOK := func(p int) bool {
		return !zero || (p >= r.mapPort(r.rc.minPort) && p <= r.mapPort(r.rc.maxPort))
	}
	want := collapseHeartbeats(tn.vc.S2CFrames, func(s string) string {
		return normS2C(s, func(p int) (string, bool) {
			if zero {
				return "ANY", true
			}
			return strconv.Itoa(r.mapPort(p)), true
		})
	})
	norm := func(s string) string {
		return normS2C(s, func(p int) (string, bool) {
			if zero {
				return "ANY", portOK(p)
			}
			return strconv.Itoa(p), true
		})
	}
	for range 1000 {
		got := collapseHeartbeats(tn.frames, norm)
		if len(got) > len(want) || (len(got) == len(want) && got[len(got)-1] == `"Heartbeat"`) {
			if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("conn %d: server sent frames\n  %q\nbore sent\n  %q", tn.vc.Conn, got, want)
			}
			return
		}
		r.readTunnelFrame(tn)
	}
	t.Errorf("conn %d: server sent frames\n  %q\nbore sent\n  %q", tn.vc.Conn, collapseHeartbeats(tn.frames, norm), want)
}

// collapseHeartbeats normalises frames and counts each run of heartbeats
// once: their number depends on timing, their place does not.
func collapseHeartbeats(frames []string, norm func(string) string) []string {
	var out []string
	for _, f := range frames {
		f = norm(f)
		if f == `"Heartbeat"` && len(out) > 0 && out[len(out)-1] == f {
			continue
		}
		out = append(out, f)
	}
	return out
}

// normS2C replaces random ids in server bytes by a placeholder and, when
// port is not nil, Hello ports by what port says (false: out of range).
func normS2C(s string, port func(int) (string, bool)) string {
	s = serverIDRe.ReplaceAllString(s, `"$1":"<uuid>"`)
	if port == nil {
		return s
	}
	return helloPortRe.ReplaceAllStringFunc(s, func(h string) string {
		m := helloPortRe.FindStringSubmatch(h)
		p, _ := strconv.Atoi(m[2])
		text, ok := port(p)
		if !ok {
			text = fmt.Sprintf("%d(out of range)", p)
		}
		return m[1] + text
	})
}

// TestReplayChallengeIsFresh checks every connection gets its own random
// v4 challenge, as in bore.
func TestReplayChallengeIsFresh(t *testing.T) {
	t.Parallel()
	srv, err := NewServer(ServerConfig{Secret: "bore-test-secret", BindTunnels: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	srv.handshakeTimeout = time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	seen := map[uuid.UUID]bool{}
	for range 5 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		m, err := newFrameReader(c).readServer()
		c.Close()
		if err != nil || m.Kind != ServerChallenge || m.ID.Version() != 4 || seen[m.ID] {
			t.Fatalf("challenge %+v, %v: want a fresh v4 UUID", m, err)
		}
		seen[m.ID] = true
	}
}

// TestHeartbeatSequence checks an idle tunnel gets Hello, then nothing but
// heartbeats, and that the server lets the port go once a heartbeat write
// fails after the client left.
func TestHeartbeatSequence(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.heartbeat = 5 * time.Millisecond })
	c, err := net.Dial("tcp", joinHostPort("127.0.0.1", srv.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(encodeFrame(ClientMessage{Kind: ClientHello}))
	fr := newFrameReader(c)
	for i := range 6 {
		m, err := fr.readServer()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if (i == 0) != (m.Kind == ServerHello) || (i > 0 && m.Kind != ServerHeartbeat) {
			t.Fatalf("frame %d is %+v; want Hello then heartbeats", i, m)
		}
	}
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for srv.Stats().Tunnels != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the tunnel of a closed client is still open after 10s of heartbeats")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
