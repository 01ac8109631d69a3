package tunnel

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/uuid"
)

// goldenMessages is testdata/messages.json: one byte-exact frame of every
// message kind, captured from bore 0.5.2, and the wire form of every Error
// string a bore server sends.
type goldenMessages struct {
	Messages []struct {
		Message string `json:"message"`
		JSON    string `json:"json"`
		WireHex string `json:"wire_hex"`
		WireLen int    `json:"wire_len"`
	} `json:"messages"`
	ErrorStrings []struct {
		Text    string `json:"text"`
		WireHex string `json:"wire_hex"`
	} `json:"error_strings"`
}

func loadGoldenMessages(t testing.TB) goldenMessages {
	t.Helper()
	data, err := os.ReadFile("testdata/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var g goldenMessages
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("testdata/messages.json: %v", err)
	}
	if len(g.Messages) != 8 || len(g.ErrorStrings) != 10 {
		t.Fatalf("testdata/messages.json: %d messages and %d error strings, want 8 and 10", len(g.Messages), len(g.ErrorStrings))
	}
	return g
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestGoldenFrames checks that every captured frame decodes to the message
// it names and that encoding that message gives the captured bytes.
func TestGoldenFrames(t *testing.T) {
	t.Parallel()
	g := loadGoldenMessages(t)
	connID := uuid.MustParse("770aeff9-7861-4cdf-8155-45b2f1edab70")
	want := map[string]json.Marshaler{
		"ServerMessage::Challenge":    ServerMessage{Kind: ServerChallenge, ID: uuid.MustParse("d229c99b-24c3-4724-9855-0c5bd558554f")},
		"ServerMessage::Hello":        ServerMessage{Kind: ServerHello, Port: 20010},
		"ServerMessage::Heartbeat":    ServerMessage{Kind: ServerHeartbeat},
		"ServerMessage::Connection":   ServerMessage{Kind: ServerConnection, ID: connID},
		"ServerMessage::Error":        ServerMessage{Kind: ServerErr, Text: "invalid secret"},
		"ClientMessage::Authenticate": ClientMessage{Kind: ClientAuthenticate, Answer: "30dc89a25d878dcec658606e49c5d4da747dcf9ec3322119f7538b357a4db7eb"},
		"ClientMessage::Hello":        ClientMessage{Kind: ClientHello, Port: 20010},
		"ClientMessage::Accept":       ClientMessage{Kind: ClientAccept, ID: connID},
	}
	for _, m := range g.Messages {
		t.Run(m.Message, func(t *testing.T) {
			wire := mustHex(t, m.WireHex)
			if len(wire) != m.WireLen || wire[len(wire)-1] != 0 || string(wire[:len(wire)-1]) != m.JSON {
				t.Fatalf("testdata is inconsistent: %q", wire)
			}
			msg, ok := want[m.Message]
			if !ok {
				t.Fatalf("no expectation for %s", m.Message)
			}
			if got := encodeFrame(msg); !bytes.Equal(got, wire) {
				t.Errorf("encode %+v:\n got %q\nwant %q", msg, got, wire)
			}
			fr := newFrameReader(bytes.NewReader(wire))
			var got any
			var err error
			if strings.HasPrefix(m.Message, "Client") {
				got, err = fr.readClient()
			} else {
				got, err = fr.readServer()
			}
			if err != nil {
				t.Fatalf("decode %q: %v", wire, err)
			}
			if got != msg {
				t.Errorf("decode %q = %+v, want %+v", wire, got, msg)
			}
			if _, err := fr.next(); err != io.EOF {
				t.Errorf("after the frame: %v, want io.EOF", err)
			}
		})
	}
}

// TestGoldenErrorStrings checks the wire form of every Error a bore server
// sends, and that our server's texts are exactly those.
func TestGoldenErrorStrings(t *testing.T) {
	t.Parallel()
	g := loadGoldenMessages(t)
	ours := []string{
		errTextInvalidSecret, errTextSecretRequired, errTextTimeout, errTextParse,
		errTextFrameLength, errTextPortRange, errTextPortInUse, errTextNoFreePort,
		errTextPermission, errTextBindFailed,
	}
	for i, e := range g.ErrorStrings {
		if ours[i] != e.Text {
			t.Errorf("error string %d: ours %q, bore's %q", i, ours[i], e.Text)
		}
		wire := mustHex(t, e.WireHex)
		msg := ServerMessage{Kind: ServerErr, Text: e.Text}
		if got := encodeFrame(msg); !bytes.Equal(got, wire) {
			t.Errorf("encode Error(%q):\n got %q\nwant %q", e.Text, got, wire)
		}
		got, err := newFrameReader(bytes.NewReader(wire)).readServer()
		if err != nil || got != msg {
			t.Errorf("decode %q = %+v, %v; want %+v", wire, got, err, msg)
		}
	}
	if ErrFrameTooLong.Error() != errTextFrameLength || ErrParse.Error() != errTextParse {
		t.Errorf("sentinel errors %q, %q do not use bore's words", ErrFrameTooLong, ErrParse)
	}
}

// TestEncodeEscapes checks strings are escaped as serde_json does: no HTML
// escaping, control characters escaped (so a frame never holds a NUL).
func TestEncodeEscapes(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"a<b>&c":      `{"Error":"a<b>&c"}`,
		"quote\"\\":   `{"Error":"quote\"\\"}`,
		"nul\x00nl\n": `{"Error":"nul\u0000nl\n"}`,
		"héllo ✓":     `{"Error":"héllo ✓"}`,
	} {
		got := encodeFrame(ServerMessage{Kind: ServerErr, Text: text})
		if string(got) != want+"\x00" {
			t.Errorf("Error(%q) = %q, want %q", text, got, want+"\x00")
		}
		if bytes.IndexByte(got[:len(got)-1], 0) >= 0 {
			t.Errorf("Error(%q) frame holds a NUL", text)
		}
	}
}

// trickleReader serves n bytes of filler, at most chunk bytes per Read, and
// counts what was handed out.
type trickleReader struct {
	n, chunk, read int
	fill           byte
}

func (r *trickleReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	k := min(len(p), r.chunk, r.n-r.read)
	for i := range k {
		p[i] = r.fill
	}
	r.read += k
	return k, nil
}

// frameOfLen returns a Hello frame padded with spaces to n bytes.
func frameOfLen(n int) []byte {
	b := []byte(`{"Hello":20050`)
	b = append(b, bytes.Repeat([]byte(" "), n-len(b)-1)...)
	return append(b, '}')
}

// readerKinds are the ways a stream can arrive: whole, a byte at a time,
// and in odd chunks.
var readerKinds = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"onebyte", iotest.OneByteReader},
	{"halves", iotest.HalfReader},
	{"dataerr", iotest.DataErrReader},
}

// TestFrameReaderMaxLength checks the 256-byte limit, with and without the
// NUL arriving, however the bytes are split.
func TestFrameReaderMaxLength(t *testing.T) {
	t.Parallel()
	f256, f257 := frameOfLen(256), frameOfLen(257)
	for _, rk := range readerKinds {
		t.Run(rk.name, func(t *testing.T) {
			// 256 bytes, then the NUL: accepted.
			fr := newFrameReader(rk.wrap(bytes.NewReader(append(append([]byte{}, f256...), 0))))
			m, err := fr.readClient()
			if err != nil || m != (ClientMessage{Kind: ClientHello, Port: 20050}) {
				t.Errorf("256-byte frame with NUL: %+v, %v", m, err)
			}
			// 256 bytes and EOF, no NUL: accepted as the last frame.
			fr = newFrameReader(rk.wrap(bytes.NewReader(f256)))
			if m, err = fr.readClient(); err != nil || m.Port != 20050 {
				t.Errorf("256-byte frame at EOF: %+v, %v", m, err)
			}
			// 257 bytes with or without a NUL: refused.
			for _, in := range [][]byte{append(append([]byte{}, f257...), 0), f257} {
				fr = newFrameReader(rk.wrap(bytes.NewReader(in)))
				if _, err := fr.next(); !errors.Is(err, ErrFrameTooLong) {
					t.Errorf("257-byte frame (NUL %v): %v, want ErrFrameTooLong", in[len(in)-1] == 0, err)
				}
			}
		})
	}
}

// TestFrameReaderStopsEarly checks an endless stream without a NUL fails
// once 257 bytes are buffered instead of being read to the end.
func TestFrameReaderStopsEarly(t *testing.T) {
	t.Parallel()
	for _, chunk := range []int{1, 7, 100, 1 << 20} {
		r := &trickleReader{n: 1 << 20, chunk: chunk, fill: 'x'}
		_, err := newFrameReader(r).next()
		if !errors.Is(err, ErrFrameTooLong) {
			t.Errorf("chunk %d: %v, want ErrFrameTooLong", chunk, err)
		}
		limit := MaxFrameLength + chunk
		if limit > 2*MaxFrameLength+2 {
			limit = 2*MaxFrameLength + 2
		}
		if r.read > limit {
			t.Errorf("chunk %d: read %d bytes before refusing, want at most %d", chunk, r.read, limit)
		}
	}
	r := &trickleReader{n: 1 << 20, chunk: 1, fill: 'x'}
	if _, err := newFrameReader(r).next(); !errors.Is(err, ErrFrameTooLong) || r.read != MaxFrameLength+1 {
		t.Errorf("one byte at a time: %v after %d bytes, want ErrFrameTooLong after %d", err, r.read, MaxFrameLength+1)
	}
}

// TestFrameReaderPipelinedAndLeftover checks frames that arrive together
// and keeps the bytes behind the last one for the tunnel.
func TestFrameReaderPipelinedAndLeftover(t *testing.T) {
	t.Parallel()
	in := "{\"Authenticate\":\"ab\"}\x00{\"Hello\":1}\x00\"Heartbeat\"\x00\x00RAW BYTES\x00more"
	for _, rk := range readerKinds {
		t.Run(rk.name, func(t *testing.T) {
			fr := newFrameReader(rk.wrap(strings.NewReader(in)))
			var frames []string
			for range 4 {
				f, err := fr.next()
				if err != nil {
					t.Fatalf("frame %d: %v", len(frames), err)
				}
				frames = append(frames, string(f))
			}
			want := []string{`{"Authenticate":"ab"}`, `{"Hello":1}`, `"Heartbeat"`, ``}
			if strings.Join(frames, "|") != strings.Join(want, "|") {
				t.Errorf("frames %q, want %q", frames, want)
			}
			// What was read past the last frame, plus the rest of the
			// stream, is the raw tunnel data.
			rest, _ := io.ReadAll(fr.r)
			if got := string(fr.buffered()) + string(rest); got != "RAW BYTES\x00more" {
				t.Errorf("leftover %q, want %q", got, "RAW BYTES\x00more")
			}
		})
	}
}

// TestFrameReaderEOF checks an unterminated last frame before EOF is
// still a frame, as in bore.
func TestFrameReaderEOF(t *testing.T) {
	t.Parallel()
	for _, rk := range readerKinds {
		for in, want := range map[string][]string{
			"":                             nil,
			"\x00":                         {""},
			`{"Hello":20053}`:              {`{"Hello":20053}`},
			"{\"Hello\":1}\x00":            {`{"Hello":1}`},
			"{\"Hello\":1}\x00\"Heartbeat": {`{"Hello":1}`, `"Heartbeat`},
		} {
			fr := newFrameReader(rk.wrap(strings.NewReader(in)))
			var got []string
			for {
				f, err := fr.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s %q: %v", rk.name, in, err)
				}
				got = append(got, string(f))
			}
			if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
				t.Errorf("%s %q: frames %q, want %q", rk.name, in, got, want)
			}
			if _, err := fr.next(); err != io.EOF {
				t.Errorf("%s %q: after EOF: %v", rk.name, in, err)
			}
		}
	}
}

// TestFrameReaderReadError checks a read error other than EOF is returned,
// not taken for the end of the stream.
func TestFrameReaderReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	fr := newFrameReader(io.MultiReader(strings.NewReader(`{"Hello":1}`), iotest.ErrReader(boom)))
	if _, err := fr.next(); !errors.Is(err, boom) {
		t.Errorf("next: %v, want %v", err, boom)
	}
}

// TestClientMessageLeniency checks what a client message may look like, as
// bore's serde_json decoder decides (captures f and f3).
func TestClientMessageLeniency(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
	accept := ClientMessage{Kind: ClientAccept, ID: id}
	good := map[string]ClientMessage{
		` { "Hello" : 20052 } `:                                                               {Kind: ClientHello, Port: 20052},
		"\t{\r\n\"Hello\"\n:\t0}\n":                                                           {Kind: ClientHello},
		`{"Hello":65535}`:                                                                     {Kind: ClientHello, Port: 65535},
		`{"Hello":20050                                  }`:                                   {Kind: ClientHello, Port: 20050},
		`{"Accept":"6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}`:                                   accept,
		`{"Accept":"6F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9"}`:                                   accept,
		`{"Accept":"6f1e2d3c4b5a49788695a4b3c2d1e0f9"}`:                                       accept,
		`{"Accept":"6F1E2D3C4B5A49788695A4B3C2D1E0F9"}`:                                       accept,
		`{"Accept":"{6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9}"}`:                                 accept,
		`{"Accept":"urn:uuid:6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}`:                          accept,
		`{"Accept":"\u0036f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}`:                              accept,
		`{"Authenticate":"00"}`:                                                               {Kind: ClientAuthenticate, Answer: "00"},
		`{"Authenticate":""}`:                                                                 {Kind: ClientAuthenticate},
		`{"Authenticate":"D901BFED6062324BD2E080B0C9D63C14DBE603C632B54499B137F294658AC8AD"}`: {Kind: ClientAuthenticate, Answer: "D901BFED6062324BD2E080B0C9D63C14DBE603C632B54499B137F294658AC8AD"},
	}
	for in, want := range good {
		var m ClientMessage
		if err := m.UnmarshalJSON([]byte(in)); err != nil || m != want {
			t.Errorf("%s: %+v, %v; want %+v", in, m, err, want)
		}
	}
	bad := []string{
		``, ` `, `hello`, `null`, `{}`, `[]`, `"Hello"`, `"Heartbeat"`,
		`{"Hello":"20100"}`, `{"Hello":20100.0}`, `{"Hello":-1}`, `{"Hello":70000}`,
		`{"Hello":65536}`, `{"Hello":[20100]}`, `{"Hello":2e4}`, `{"Hello":null}`,
		`{"Hello":+1}`, `{"Hello":020100}`, `{"Hello":true}`,
		`{"hello":20100}`, `{"HELLO":20100}`, `{"Hello ":20100}`,
		`{"Hello":20100,"extra":1}`, `{"Hello":1,"Hello":2}`, `{"Hello":1}x`,
		`{"Hello":1}{"Hello":2}`, `{"Hello":1`, `{"Bye":1}`, `{"Heartbeat":null}`,
		`{"Challenge":"6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}`,
		`{"Accept":"6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f"}`,
		`{"Accept":"6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9a"}`,
		`{"Accept":"6f1e2d3c4b5a-4978-8695-a4b3c2d1e0f9-"}`,
		`{"Accept":"6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0g9"}`,
		`{"Accept":"(6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9)"}`,
		`{"Accept":"[6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9]"}`,
		`{"Accept":"{6f1e2d3c4b5a49788695a4b3c2d1e0f9}"}`,
		`{"Accept":"URN:UUID:6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}`,
		`{"Accept":"urn:uuid:6f1e2d3c4b5a49788695a4b3c2d1e0f9"}`,
		`{"Accept":" 6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}`,
		`{"Accept":6}`, `{"Accept":null}`, `{"Accept":["6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"]}`,
		`{"Authenticate":null}`, `{"Authenticate":0}`, `{"Authenticate":["00"]}`,
		"\v{\"Hello\":1}", "{\"Hello\":1}\f", "\u00a0{\"Hello\":1}",
		"{\"Authenticate\":\"\xff\"}",
	}
	for _, in := range bad {
		var m ClientMessage
		if err := m.UnmarshalJSON([]byte(in)); !errors.Is(err, ErrParse) {
			t.Errorf("%q: %+v, %v; want ErrParse", in, m, err)
		}
	}
}

// TestServerMessageLeniency checks what a client accepts from a server.
func TestServerMessageLeniency(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("770aeff9-7861-4cdf-8155-45b2f1edab70")
	good := map[string]ServerMessage{
		`"Heartbeat"`:          {Kind: ServerHeartbeat},
		` "Heartbeat" `:        {Kind: ServerHeartbeat},
		`{"Heartbeat":null}`:   {Kind: ServerHeartbeat},
		`{ "Hello" : 20010 }`:  {Kind: ServerHello, Port: 20010},
		`{"Hello":0}`:          {Kind: ServerHello},
		`{"Error":"x\u0000y"}`: {Kind: ServerErr, Text: "x\x00y"},
		`{"Error":""}`:         {Kind: ServerErr},
		`{"Connection":"770AEFF9786142DF815545B2F1EDAB70"}`:             {Kind: ServerConnection, ID: uuid.MustParse("770aeff9-7861-42df-8155-45b2f1edab70")},
		`{"Connection":"770aeff9-7861-4cdf-8155-45b2f1edab70"}`:         {Kind: ServerConnection, ID: id},
		`{"Challenge":"urn:uuid:770aeff9-7861-4cdf-8155-45b2f1edab70"}`: {Kind: ServerChallenge, ID: id},
		`{"Challenge":"{770aeff9-7861-4cdf-8155-45b2f1edab70}"}`:        {Kind: ServerChallenge, ID: id},
	}
	for in, want := range good {
		var m ServerMessage
		if err := m.UnmarshalJSON([]byte(in)); err != nil || m != want {
			t.Errorf("%s: %+v, %v; want %+v", in, m, err, want)
		}
	}
	bad := []string{
		``, `Heartbeat`, `"heartbeat"`, `"Hello"`, `"Bogus"`, `{"Bogus":1}`,
		`{"Heartbeat":1}`, `{"Heartbeat":{}}`, `{"Heartbeat":null,"x":1}`,
		`{"Hello":70000}`, `{"Hello":"20010"}`, `{"Hello":-1}`, `{"Hello":1.5}`,
		`{"hello":1}`, `{"Error":null}`, `{"Error":1}`, `{"Error":["x"]}`,
		`{"Accept":"770aeff9-7861-4cdf-8155-45b2f1edab70"}`, `{"Authenticate":"00"}`,
		`{"Connection":"770aeff9-7861-4cdf-8155"}`, `{"Connection":null}`,
		`{"Challenge":"(770aeff9-7861-4cdf-8155-45b2f1edab70)"}`,
		`"Heartbeat"x`, `"Heartbeat""Heartbeat"`, "\v\"Heartbeat\"", "\u00a0\"Heartbeat\"",
		"\"Heartbeat\"\f", "\u0085{\"Hello\":1}",
	}
	for _, in := range bad {
		var m ServerMessage
		if err := m.UnmarshalJSON([]byte(in)); !errors.Is(err, ErrParse) {
			t.Errorf("%q: %+v, %v; want ErrParse", in, m, err)
		}
	}
}
