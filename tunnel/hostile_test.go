package tunnel

import (
	"bufio"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Tests in this file feed the server hostile input on its control port:
// malformed frames, bad answers to the challenge, stolen or stale visitor
// ids, and more tunnels from one address than it allows. Each checks the
// reply bore gives (silence or an exact Error frame), that nothing panics
// and that no goroutine is left behind.

const hostileSecret = "bore-test-secret"

// hostileDial connects to the server's control port.
func hostileDial(t *testing.T, srv *testServer) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(srv.port))), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(15 * time.Second))
	return c.(*net.TCPConn)
}

// hostileReadRest reads until the server closes. A close with unread input
// on the server side arrives as a reset, which counts as closed too.
func hostileReadRest(t *testing.T, c net.Conn) []byte {
	t.Helper()
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading until the server closes: %v (after %q)", err, b)
	}
	return b
}

// hostileExpectSilence checks that the server closes c without sending a
// byte.
func hostileExpectSilence(t *testing.T, c net.Conn) {
	t.Helper()
	if b := hostileReadRest(t, c); len(b) != 0 {
		t.Fatalf("server sent %q, want a silent close", b)
	}
}

// hostileExpectError checks that the server sends exactly one Error frame
// with text and closes.
func hostileExpectError(t *testing.T, c net.Conn, text string) {
	t.Helper()
	b := hostileReadRest(t, c)
	want := string(encodeFrame(ServerMessage{Kind: ServerErr, Text: text}))
	if string(b) != want {
		t.Fatalf("server sent %q, want %q and a close", b, want)
	}
}

// hostileChallenge reads the server's Challenge.
func hostileChallenge(t *testing.T, c net.Conn, fr *frameReader) uuid.UUID {
	t.Helper()
	m, err := fr.readServer()
	if err != nil || m.Kind != ServerChallenge {
		t.Fatalf("first frame %+v, %v; want a Challenge", m, err)
	}
	return m.ID
}

// hostileAuthenticate reads the Challenge on c and answers it correctly.
func hostileAuthenticate(t *testing.T, c net.Conn, fr *frameReader) {
	t.Helper()
	ch := hostileChallenge(t, c, fr)
	ans := newAuthenticator(hostileSecret).answer(ch)
	if _, err := c.Write(encodeFrame(ClientMessage{Kind: ClientAuthenticate, Answer: ans})); err != nil {
		t.Fatal(err)
	}
}

// hostileWaitGoroutines waits until the goroutine count is back to base.
func hostileWaitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before the test:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hostileFrame is one malformed first frame and what a server with a secret
// answers when it arrives instead of Authenticate. Without a secret, and
// after a successful Authenticate, the answer is always silence.
type hostileFrame struct {
	name      string
	input     string
	halfClose bool   // shut down our write side after input
	authErr   string // Error text during the secret handshake
}

func hostileFrames() []hostileFrame {
	id := "770aeff9-7861-4cdf-8155-45b2f1edab70"
	parse := func(name, in string) hostileFrame {
		return hostileFrame{name: name, input: in + "\x00", authErr: errTextParse}
	}
	fs := []hostileFrame{
		{name: "empty stream", halfClose: true, authErr: errTextSecretRequired},
		{name: "nothing at all", authErr: errTextTimeout},
		{name: "truncated, stream stays open", input: `{"Hello":2`, authErr: errTextTimeout},
		{name: "truncated then EOF", input: `{"Hello":`, halfClose: true, authErr: errTextParse},
		{name: "oversized, no NUL", input: strings.Repeat("a", MaxFrameLength+1), authErr: errTextFrameLength},
		{name: "oversized then NUL", input: strings.Repeat(" ", 1000) + "\x00", authErr: errTextFrameLength},
		{name: "oversized valid Hello", input: `{"Hello":0}` + strings.Repeat(" ", MaxFrameLength+1-11) + "\x00", authErr: errTextFrameLength},
		{name: "1 MiB of garbage", input: strings.Repeat("x", 1<<20), authErr: errTextFrameLength},
		parse("NUL only", ""),
		parse("NULs only", "\x00\x00\x00"),
		parse("not JSON", "hello"),
		parse("invalid UTF-8", "\xff\xfe{\"Hello\":1}"),
		parse("binary", "\x01\x02\x03\x7f\x80"),
		parse("JSON null", "null"),
		parse("JSON array", "[1]"),
		parse("empty object", "{}"),
		parse("lower-case tag", `{"hello":0}`),
		parse("extra key", `{"Hello":0,"x":1}`),
		parse("two variants", `{"Hello":0,"Accept":"`+id+`"}`),
		parse("server variant Heartbeat", `"Heartbeat"`),
		parse("server variant Challenge", `{"Challenge":"`+id+`"}`),
		parse("server variant Connection", `{"Connection":"`+id+`"}`),
		parse("server variant Error", `{"Error":"x"}`),
		parse("unknown variant", `{"Goodbye":1}`),
		parse("Hello null", `{"Hello":null}`),
		parse("Hello 65536", `{"Hello":65536}`),
		parse("Hello -1", `{"Hello":-1}`),
		parse("Hello string", `{"Hello":"1"}`),
		parse("Hello float", `{"Hello":1.0}`),
		parse("Hello exponent", `{"Hello":1e3}`),
		parse("Hello huge", `{"Hello":`+strings.Repeat("9", 200)+`}`),
		parse("Accept null", `{"Accept":null}`),
		parse("Accept number", `{"Accept":123}`),
		parse("Accept empty", `{"Accept":""}`),
		parse("Authenticate null", `{"Authenticate":null}`),
		parse("Authenticate number", `{"Authenticate":1}`),
		parse("deep nesting", `{"Hello":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`),
	}
	for _, s := range hostileBadUUIDs(id) {
		fs = append(fs, parse("Accept "+s, `{"Accept":"`+s+`"}`))
	}
	return fs
}

// hostileBadUUIDs are spellings of id that bore's uuid crate refuses.
func hostileBadUUIDs(id string) []string {
	simple := strings.ReplaceAll(id, "-", "")
	return []string{
		id[:35],                                // one digit short
		id + "0",                               // one digit long
		simple[:31],                            // simple, short
		simple + "0",                           // simple, long
		"(" + id + ")",                         // wrong brackets
		"{" + id,                               // unclosed brace
		id + "}",                               // closing brace only
		"[" + id + "]",                         // square brackets
		"URN:UUID:" + id,                       // upper-case URN prefix
		"urn:uid:" + id,                        // misspelt URN prefix
		"770aeff97-861-4cdf-8155-45b2f1edab70", // hyphen misplaced
		"770aeff9-7861-4cdf-8155-45b2f1edab7g", // not hex
		" " + id,                               // leading space inside the string
		id + " ",                               // trailing space inside the string
		"0x" + simple[2:],                      // hex prefix
	}
}

// TestHostileFrames sends every malformed first frame to a server without
// a secret, to one with a secret during the challenge, and to one with a
// secret after a good Authenticate, and checks bore's answer each time:
// silence and a close, except during the secret handshake, where an Error
// frame precedes the close.
func TestHostileFrames(t *testing.T) {
	fast := func(s *Server) { s.handshakeTimeout, s.readyTimeout = 200*time.Millisecond, 200*time.Millisecond }
	open := startServer(t, ServerConfig{MinPort: 20000, MaxPort: 30000}, fast)
	secret := startServer(t, ServerConfig{MinPort: 20000, MaxPort: 30000, Secret: hostileSecret}, fast)
	base := runtime.NumGoroutine()
	frames := hostileFrames()

	send := func(t *testing.T, c *net.TCPConn, f hostileFrame) {
		if f.input != "" {
			// A server that has hung up may reset a long write; what it
			// sent before that is what the test checks.
			c.Write([]byte(f.input))
		}
		if f.halfClose {
			c.CloseWrite()
		}
	}
	t.Run("group", func(t *testing.T) {
		for _, f := range frames {
			t.Run("no secret/"+f.name, func(t *testing.T) {
				t.Parallel()
				c := hostileDial(t, open)
				send(t, c, f)
				hostileExpectSilence(t, c)
			})
			t.Run("during challenge/"+f.name, func(t *testing.T) {
				t.Parallel()
				c := hostileDial(t, secret)
				fr := newFrameReader(c)
				hostileChallenge(t, c, fr)
				send(t, c, f)
				// What follows the Challenge is the Error frame alone.
				rest := append(append([]byte(nil), fr.buffered()...), hostileReadRest(t, c)...)
				want := string(encodeFrame(ServerMessage{Kind: ServerErr, Text: f.authErr}))
				if string(rest) != want {
					t.Fatalf("after the challenge the server sent %q, want %q", rest, want)
				}
			})
			t.Run("after authenticate/"+f.name, func(t *testing.T) {
				t.Parallel()
				c := hostileDial(t, secret)
				fr := newFrameReader(c)
				hostileAuthenticate(t, c, fr)
				send(t, c, f)
				if rest := append(append([]byte(nil), fr.buffered()...), hostileReadRest(t, c)...); len(rest) != 0 {
					t.Fatalf("after a good authenticate the server sent %q, want a silent close", rest)
				}
			})
		}
		// An Authenticate to a server without a secret: bore logs
		// "unexpected authenticate" and closes without a word.
		t.Run("no secret/unexpected authenticate", func(t *testing.T) {
			t.Parallel()
			c := hostileDial(t, open)
			c.Write(encodeFrame(ClientMessage{Kind: ClientAuthenticate, Answer: strings.Repeat("0", 64)}))
			hostileExpectSilence(t, c)
		})
	})

	// Every connection counted once as a protocol refusal, except the
	// empty stream after the handshake: a client closing a connection
	// without a byte is not refused, it counts as unused. All of their
	// goroutines are gone while the servers keep running.
	n := int64(len(frames))
	waitFor(t, "refusals counted", 10*time.Second, func() bool {
		return open.Stats().Refused["protocol"] == n && secret.Stats().Refused["protocol"] == 2*n-1 &&
			open.Stats().Unused == 1 && secret.Stats().Unused == 1 &&
			len(open.handshakes) == 0 && len(secret.handshakes) == 0
	})
	for _, s := range []*testServer{open, secret} {
		if st := s.Stats(); st.Tunnels != 0 || st.Pending != 0 || len(st.Refused) != 1 {
			t.Errorf("after hostile frames: %+v", st)
		}
	}
	hostileWaitGoroutines(t, base)
}

// TestHostileFrameBoundary checks the other side of the limit: a frame of
// exactly MaxFrameLength bytes is a valid Hello.
func TestHostileFrameBoundary(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{MinPort: 20000, MaxPort: 30000})
	c := hostileDial(t, srv)
	frame := `{"Hello":0}` + strings.Repeat(" ", MaxFrameLength-11)
	c.Write([]byte(frame + "\x00"))
	m, err := newFrameReader(c).readServer()
	if err != nil || m.Kind != ServerHello || m.Port < 20000 || m.Port > 30000 {
		t.Fatalf("256-byte Hello answered with %+v, %v", m, err)
	}
}

// TestHostileHelloPorts checks the ports a Hello may name: 0 picks one in
// range, 65535 is refused outside the range with bore's Error, and 65536
// or -1 do not parse, which closes the connection in silence.
func TestHostileHelloPorts(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{MinPort: 20000, MaxPort: 30000}, func(s *Server) {
		s.handshakeTimeout = 200 * time.Millisecond
	})
	hello := func(port string) *net.TCPConn {
		c := hostileDial(t, srv)
		c.Write([]byte(`{"Hello":` + port + "}\x00"))
		return c
	}

	c := hello("0")
	m, err := newFrameReader(c).readServer()
	if err != nil || m.Kind != ServerHello || m.Port < 20000 || m.Port > 30000 {
		t.Errorf("Hello 0 answered with %+v, %v; want a port in 20000-30000", m, err)
	}
	c.Close()

	hostileExpectError(t, hello("65535"), errTextPortRange)
	hostileExpectError(t, hello("19999"), errTextPortRange)
	hostileExpectSilence(t, hello("65536"))
	hostileExpectSilence(t, hello("-1"))

	// With the full range, 65535 is a port like any other: granted, or
	// refused because someone holds it.
	full := startServer(t, ServerConfig{})
	c = hostileDial(t, full)
	c.Write([]byte(`{"Hello":65535}` + "\x00"))
	m, err = newFrameReader(c).readServer()
	switch {
	case err != nil:
		t.Errorf("Hello 65535 on the full range: %v", err)
	case m.Kind == ServerHello && m.Port == 65535:
	case m.Kind == ServerErr && m.Text == errTextPortInUse:
	default:
		t.Errorf("Hello 65535 on the full range answered with %+v", m)
	}
}

// TestHostileUUIDSpellings claims pending visitors with every UUID spelling
// bore's uuid crate parses, and checks that the spellings it refuses claim
// nothing.
func TestHostileUUIDSpellings(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.handshakeTimeout = 200 * time.Millisecond })
	_, fr, port := rawControl(t, srv)
	good := []func(uuid.UUID) string{
		func(u uuid.UUID) string { return u.String() },
		func(u uuid.UUID) string { return strings.ToUpper(u.String()) },
		func(u uuid.UUID) string { return strings.ReplaceAll(u.String(), "-", "") },
		func(u uuid.UUID) string { return strings.ToUpper(strings.ReplaceAll(u.String(), "-", "")) },
		func(u uuid.UUID) string { return "{" + u.String() + "}" },
		func(u uuid.UUID) string { return "{" + strings.ToUpper(u.String()) + "}" },
		func(u uuid.UUID) string { return "urn:uuid:" + u.String() },
		func(u uuid.UUID) string { s := u.String(); return s[:18] + strings.ToUpper(s[18:]) },
	}
	accept := func(spelling, after string) *net.TCPConn {
		c := hostileDial(t, srv)
		c.Write([]byte(`{"Accept":"` + spelling + `"}` + "\x00" + after))
		return c
	}
	for i, spell := range good {
		v := dialPublic(t, port)
		id := nextConnection(t, fr).ID
		// The refused spellings of this id claim nothing...
		for _, bad := range hostileBadUUIDs(id.String()) {
			hostileExpectSilence(t, accept(bad, ""))
		}
		if st := srv.Stats(); st.Pending != 1 {
			t.Fatalf("a refused spelling claimed the visitor: %+v", st)
		}
		// ...and the accepted one does: the bytes behind it reach the
		// visitor.
		msg := fmt.Sprintf("spelling %d\n", i)
		a := accept(spell(id), msg)
		v.SetReadDeadline(time.Now().Add(10 * time.Second))
		if line, err := bufio.NewReader(v).ReadString('\n'); err != nil || line != msg {
			t.Fatalf("Accept %q: visitor read %q, %v", spell(id), line, err)
		}
		a.Close()
	}
	bad := int64(len(good) * len(hostileBadUUIDs(uuid.Nil.String())))
	waitFor(t, "refusals counted", 10*time.Second, func() bool { return srv.Stats().Refused["protocol"] == bad })
	if st := srv.Stats(); st.Pending != 0 || st.Refused["unknown_id"] != 0 {
		t.Errorf("stats: %+v", st)
	}
}

// TestHostileAuthAnswers answers the challenge in every wrong way and checks
// that each gets bore's "invalid secret", while upper-case hex, which bore
// accepts, opens a tunnel.
func TestHostileAuthAnswers(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{MinPort: 20000, MaxPort: 30000, Secret: hostileSecret}, func(s *Server) {
		s.handshakeTimeout = 500 * time.Millisecond
	})
	a := newAuthenticator(hostileSecret)
	cases := []struct {
		name   string
		answer func(challenge uuid.UUID) string
		ok     bool
	}{
		{"right", a.answer, true},
		{"upper case", func(c uuid.UUID) string { return strings.ToUpper(a.answer(c)) }, true},
		{"wrong secret", newAuthenticator("another secret").answer, false},
		{"empty secret", newAuthenticator("").answer, false},
		{"empty answer", func(uuid.UUID) string { return "" }, false},
		{"truncated", func(c uuid.UUID) string { return a.answer(c)[:62] }, false},
		{"odd length", func(c uuid.UUID) string { return a.answer(c)[:63] }, false},
		{"one digit more", func(c uuid.UUID) string { return a.answer(c) + "0" }, false},
		{"one byte more", func(c uuid.UUID) string { return a.answer(c) + "00" }, false},
		{"last digit not hex", func(c uuid.UUID) string { return a.answer(c)[:63] + "g" }, false},
		{"first digit wrong", func(c uuid.UUID) string { return hostileFlip(a.answer(c), 0) }, false},
		{"last digit wrong", func(c uuid.UUID) string { return hostileFlip(a.answer(c), 63) }, false},
		{"zeros", func(uuid.UUID) string { return strings.Repeat("0", 64) }, false},
		{"hex of the challenge", func(c uuid.UUID) string { return fmt.Sprintf("%x%x", c[:], c[:]) }, false},
		{"answer to another challenge", func(c uuid.UUID) string { c[15] ^= 1; return a.answer(c) }, false},
		{"spaces around", func(c uuid.UUID) string { return " " + a.answer(c) + " " }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := hostileDial(t, srv)
			fr := newFrameReader(c)
			ch := hostileChallenge(t, c, fr)
			// Pipelined, as bore's client sends it.
			c.Write(append(encodeFrame(ClientMessage{Kind: ClientAuthenticate, Answer: tc.answer(ch)}),
				encodeFrame(ClientMessage{Kind: ClientHello})...))
			if !tc.ok {
				hostileExpectError(t, c, errTextInvalidSecret)
				return
			}
			if m, err := fr.readServer(); err != nil || m.Kind != ServerHello {
				t.Fatalf("answered with %+v, %v; want Hello", m, err)
			}
		})
	}
}

func hostileFlip(s string, i int) string {
	b := []byte(s)
	if b[i] == '0' {
		b[i] = '1'
	} else {
		b[i] = '0'
	}
	return string(b)
}

// TestHostileAuthReplay shows that an answer seen on the wire is worth
// nothing later: every connection gets a fresh challenge.
func TestHostileAuthReplay(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{MinPort: 20000, MaxPort: 30000, Secret: hostileSecret})
	a := newAuthenticator(hostileSecret)

	first := hostileDial(t, srv)
	fr := newFrameReader(first)
	ch := hostileChallenge(t, first, fr)
	recorded := encodeFrame(ClientMessage{Kind: ClientAuthenticate, Answer: a.answer(ch)})
	first.Write(append(recorded, encodeFrame(ClientMessage{Kind: ClientHello})...))
	if m, err := fr.readServer(); err != nil || m.Kind != ServerHello {
		t.Fatalf("the original exchange failed: %+v, %v", m, err)
	}

	for range 3 {
		c := hostileDial(t, srv)
		fr := newFrameReader(c)
		if again := hostileChallenge(t, c, fr); again == ch {
			t.Fatalf("challenge %s was sent twice", ch)
		}
		c.Write(append(recorded, encodeFrame(ClientMessage{Kind: ClientHello})...))
		hostileExpectError(t, c, errTextInvalidSecret)
	}
	if got := srv.Stats().Refused["auth"]; got != 3 {
		t.Errorf("Refused[auth] = %d, want 3", got)
	}
}

// TestHostileSkipAuthenticate sends Hello or Accept straight away to a
// server that requires a secret: it answers bore's "server requires
// secret" and claims nothing.
func TestHostileSkipAuthenticate(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{Secret: hostileSecret})
	// A real pending visitor, so a successful Accept would show.
	ctl := hostileDial(t, srv)
	fr := newFrameReader(ctl)
	hostileAuthenticate(t, ctl, fr)
	ctl.Write(encodeFrame(ClientMessage{Kind: ClientHello}))
	m, err := fr.readServer()
	if err != nil || m.Kind != ServerHello {
		t.Fatalf("hello: %+v, %v", m, err)
	}
	dialPublic(t, m.Port)
	id := nextConnection(t, fr).ID

	for _, first := range []ClientMessage{{Kind: ClientAccept, ID: id}, {Kind: ClientHello}} {
		c := hostileDial(t, srv)
		fr := newFrameReader(c)
		hostileChallenge(t, c, fr)
		c.Write(encodeFrame(first))
		rest := append(append([]byte(nil), fr.buffered()...), hostileReadRest(t, c)...)
		if want := encodeFrame(ServerMessage{Kind: ServerErr, Text: errTextSecretRequired}); string(rest) != string(want) {
			t.Errorf("%+v without Authenticate: server sent %q, want %q", first, rest, want)
		}
	}
	if st := srv.Stats(); st.Pending != 1 || st.Tunnels != 1 {
		t.Errorf("stats: %+v; the visitor must still be pending and no tunnel added", st)
	}
}

// TestHostileValidateIsConstantTime checks the shape of validate, not its
// timing: it hex-decodes the whole answer, then compares the 32 bytes with
// hmac.Equal (or crypto/subtle), never with ==, bytes.Equal or a string
// comparison that stops at the first difference.
func TestHostileValidateIsConstantTime(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("auth.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range hostileValidateProblems(t, "auth.go", src) {
		t.Error(p)
	}
	// The check itself must catch the usual mistakes.
	for name, body := range map[string]string{
		"string ==":   `return answer == a.answer(challenge)`,
		"bytes.Equal": `got, _ := hex.DecodeString(answer); return bytes.Equal(got, a.mac(challenge))`,
		"no decode":   `return hmac.Equal([]byte(answer), []byte(a.answer(challenge)))`,
	} {
		bad := "package tunnel\nfunc (a *authenticator) validate(challenge uuid.UUID, answer string) bool {\n" + body + "\n}\n"
		if len(hostileValidateProblems(t, name, []byte(bad))) == 0 {
			t.Errorf("the check passes a validate that uses %s", name)
		}
	}
}

// hostileValidateProblems lists what makes the validate method in src
// return sooner for some wrong answers than for others.
func hostileValidateProblems(t *testing.T, name string, src []byte) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var validate *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "validate" && fd.Recv != nil {
			validate = fd
		}
	}
	if validate == nil {
		return []string{name + " has no validate method"}
	}
	var problems []string
	var constantTime, decodes bool
	ast.Inspect(validate.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, _ := sel.X.(*ast.Ident)
			if pkg == nil {
				return true
			}
			switch pkg.Name + "." + sel.Sel.Name {
			case "hmac.Equal", "subtle.ConstantTimeCompare":
				constantTime = true
			case "hex.DecodeString", "hex.Decode":
				decodes = true
			case "bytes.Equal", "bytes.Compare", "strings.EqualFold", "strings.Compare", "reflect.DeepEqual", "slices.Equal":
				problems = append(problems, fmt.Sprintf("%s: validate compares with %s.%s, which returns at the first difference",
					fset.Position(n.Pos()), pkg.Name, sel.Sel.Name))
			}
		case *ast.BinaryExpr:
			// Comparing a length with a constant or an error with nil is
			// fine; comparing the answer or a MAC is not.
			if n.Op != token.EQL && n.Op != token.NEQ || hostileHarmless(n.X) || hostileHarmless(n.Y) {
				return true
			}
			problems = append(problems, fmt.Sprintf("%s: validate compares values with %s", fset.Position(n.Pos()), n.Op))
		}
		return true
	})
	if !constantTime {
		problems = append(problems, "validate calls neither hmac.Equal nor subtle.ConstantTimeCompare")
	}
	if !decodes {
		problems = append(problems, "validate does not hex-decode the answer before comparing")
	}
	return problems
}

// hostileHarmless reports operands that make a comparison harmless: nil,
// or a len() call.
func hostileHarmless(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "nil"
	case *ast.CallExpr:
		id, ok := e.Fun.(*ast.Ident)
		return ok && id.Name == "len"
	}
	return false
}

// TestHostileValidateDecodesWholeAnswer checks the same property by
// behaviour: upper-case hex is accepted, so the comparison is on decoded
// bytes and not on the text; a fault in the very last character is caught
// whether it is a wrong digit or not a digit at all.
func TestHostileValidateDecodesWholeAnswer(t *testing.T) {
	t.Parallel()
	a := newAuthenticator(hostileSecret)
	ch := uuid.MustParse("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
	good := a.answer(ch)
	if !a.validate(ch, strings.ToUpper(good)) {
		t.Error("upper-case answer refused: validate compares text, not decoded bytes")
	}
	for i := range len(good) {
		if a.validate(ch, hostileFlip(good, i)) {
			t.Errorf("answer wrong at digit %d accepted", i)
		}
		if a.validate(ch, good[:i]+"x"+good[i+1:]) {
			t.Errorf("answer with a non-hex digit at %d accepted", i)
		}
	}
}

// BenchmarkValidateEarlyVsLateMismatch reports validate's cost for answers
// wrong in their first and in their last byte. The two should match; this
// is for people to read, no test asserts on timings.
func BenchmarkValidateEarlyVsLateMismatch(b *testing.B) {
	a := newAuthenticator(hostileSecret)
	ch := uuid.MustParse("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
	good := a.answer(ch)
	for _, bc := range []struct {
		name   string
		answer string
	}{
		{"early", hostileFlip(good, 0)},
		{"late", hostileFlip(good, len(good)-1)},
		{"right", good},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				a.validate(ch, bc.answer)
			}
		})
	}
}

// TestHostileAcceptOtherTunnel claims a visitor of one tunnel from a
// connection that has nothing to do with it. bore allows this: pending ids
// live in one table for the whole server and any client that passed the
// handshake may claim any of them. The ids are random v4 UUIDs sent only to
// the tunnel's owner; the secret decides who may make the claim at all.
func TestHostileAcceptOtherTunnel(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	_, frA, portA := rawControl(t, srv)
	ctlB, frB, _ := rawControl(t, srv) // the other tunnel's owner

	v := dialPublic(t, portA)
	id := nextConnection(t, frA).ID
	c := hostileDial(t, srv)
	c.Write(append(encodeFrame(ClientMessage{Kind: ClientAccept, ID: id}), "claimed by B\n"...))
	v.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(v).ReadString('\n'); err != nil || line != "claimed by B\n" {
		t.Fatalf("visitor read %q, %v; bore lets any client claim any pending id", line, err)
	}
	// B's control connection learnt nothing about A's visitor.
	ctlB.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range 3 {
		if m, err := frB.readServer(); err != nil || m.Kind != ServerHeartbeat {
			t.Fatalf("tunnel B got %+v, %v; want only heartbeats", m, err)
		}
	}
}

// TestHostileAcceptClaimedOrExpired claims a visitor twice and an expired
// visitor once: the server closes those accept connections without a word,
// as bore does, and the live visitor is not disturbed.
func TestHostileAcceptClaimedOrExpired(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.clock = clk })
	_, fr, port := rawControl(t, srv)

	v := dialPublic(t, port)
	id := nextConnection(t, fr).ID
	first := hostileDial(t, srv)
	first.Write(encodeFrame(ClientMessage{Kind: ClientAccept, ID: id}))
	waitFor(t, "visitor claimed", 10*time.Second, func() bool { return srv.Stats().Active == 1 })

	// The same id again: already claimed.
	again := hostileDial(t, srv)
	again.Write(append(encodeFrame(ClientMessage{Kind: ClientAccept, ID: id}), "hijack\n"...))
	hostileExpectSilence(t, again)

	// The first claim still carries the visitor's traffic, both ways.
	first.Write([]byte("to visitor\n"))
	v.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(v).ReadString('\n'); err != nil || line != "to visitor\n" {
		t.Fatalf("visitor read %q, %v", line, err)
	}
	v.Write([]byte("from visitor\n"))
	if line, err := bufio.NewReader(first).ReadString('\n'); err != nil || line != "from visitor\n" {
		t.Fatalf("accept connection read %q, %v", line, err)
	}

	// An expired id.
	dialPublic(t, port)
	stale := nextConnection(t, fr).ID
	waitFor(t, "pending", 10*time.Second, func() bool { return srv.Stats().Pending == 1 })
	if n := clk.fireAll(); n != 1 {
		t.Fatalf("fired %d timers, want 1", n)
	}
	late := hostileDial(t, srv)
	late.Write(encodeFrame(ClientMessage{Kind: ClientAccept, ID: stale}))
	hostileExpectSilence(t, late)

	// An id never handed out.
	never := hostileDial(t, srv)
	never.Write(encodeFrame(ClientMessage{Kind: ClientAccept, ID: uuid.New()}))
	hostileExpectSilence(t, never)

	if st := srv.Stats(); st.Refused["unknown_id"] != 3 || st.Refused["expired"] != 1 || st.Active != 1 {
		t.Errorf("stats: %+v", st)
	}
}

// TestHostileTunnelsPerAddress opens 1000 tunnels from one address. The
// first MaxTunnelsPerIP (a real client's among them) are served, the rest
// get "too many tunnels from this address"; the real tunnel keeps working,
// and once the others close, new ones are allowed again. All test traffic
// comes from 127.0.0.1.
func TestHostileTunnelsPerAddress(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{MinPort: 20000, MaxPort: 30000}, func(s *Server) {
		s.heartbeat = 20 * time.Millisecond // notice closed tunnels soon
	})
	limit := DefaultMaxTunnelsPerIP
	tun, _ := runTunnel(t, clientFor(srv, startEcho(t)))
	public := waitOpen(t, tun)
	since := tun.Status().Since

	// open sends n Hellos with bounded concurrency and returns the
	// control connections that got a port; the others must get the
	// per-address Error.
	open := func(n int) (kept []net.Conn, refused int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(srv.port))), 5*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				c.SetDeadline(time.Now().Add(20 * time.Second))
				c.Write(encodeFrame(ClientMessage{Kind: ClientHello}))
				m, err := newFrameReader(c).readServer()
				c.SetDeadline(time.Time{})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && m.Kind == ServerHello:
					kept = append(kept, c)
					return
				case err == nil && m.Kind == ServerErr && m.Text == errTextTooManyTunnels:
					refused++
				default:
					t.Errorf("Hello answered with %+v, %v", m, err)
				}
				c.Close()
			}()
		}
		wg.Wait()
		return kept, refused
	}

	kept, refused := open(1000)
	t.Cleanup(func() {
		for _, c := range kept {
			c.Close()
		}
	})
	if len(kept) != limit-1 || refused != 1000-(limit-1) {
		t.Fatalf("%d tunnels opened and %d refused; want %d and %d", len(kept), refused, limit-1, 1000-(limit-1))
	}
	if st := srv.Stats(); st.Tunnels != int64(limit) || st.Refused["per_ip"] != int64(refused) {
		t.Errorf("stats: %+v", st)
	}
	if got := roundTrip(t, dialPublic(t, public), "still here\n"); got != "still here\n" {
		t.Errorf("real tunnel echoed %q", got)
	}

	for _, c := range kept {
		c.Close()
	}
	waitFor(t, "closed tunnels noticed", 20*time.Second, func() bool { return srv.Stats().Tunnels == 1 })
	kept, refused = open(limit)
	if len(kept) != limit-1 || refused != 1 {
		t.Errorf("after the others closed: %d opened and %d refused, want %d and 1", len(kept), refused, limit-1)
	}
	for _, c := range kept {
		c.Close()
	}
	if got := roundTrip(t, dialPublic(t, public), "and here\n"); got != "and here\n" {
		t.Errorf("real tunnel echoed %q", got)
	}
	if st := tun.Status(); st.State != StateOpen || !st.Since.Equal(since) || st.RemotePort != public {
		t.Errorf("real tunnel status %+v; it must have stayed open on port %d throughout", st, public)
	}
}

// TestHostileRefusalLogLimit checks the limiter behind the server's refusal
// warnings: one line per reason per interval, and the next line says how
// many were left out.
func TestHostileRefusalLogLimit(t *testing.T) {
	t.Parallel()
	var l logLimiter
	t0 := time.Unix(1_700_000_000, 0)
	steps := []struct {
		key     string
		at      time.Duration
		ok      bool
		skipped int
	}{
		{"pending", 0, true, 0},
		{"pending", refusalLogInterval / 2, false, 0},
		{"auth", refusalLogInterval / 2, true, 0}, // reasons are separate
		{"pending", refusalLogInterval - 1, false, 0},
		{"pending", refusalLogInterval, true, 2},
		{"pending", 3 * refusalLogInterval, true, 0},
		{"auth", 3 * refusalLogInterval, true, 0},
	}
	for i, s := range steps {
		ok, skipped := l.allow(s.key, t0.Add(s.at))
		if ok != s.ok || skipped != s.skipped {
			t.Errorf("step %d (%s at %v): allow = %v, %d; want %v, %d", i, s.key, s.at, ok, skipped, s.ok, s.skipped)
		}
	}
}
