package tunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// fuzzSeeds returns every captured client and server stream and frame, and
// the golden frames, as seeds.
func fuzzSeeds(f *testing.F) (client, server [][]byte) {
	f.Helper()
	g := loadGoldenMessages(f)
	for _, m := range g.Messages {
		w := mustHex(f, m.WireHex)
		if strings.HasPrefix(m.Message, "Client") {
			client = append(client, w)
		} else {
			server = append(server, w)
		}
	}
	for _, e := range g.ErrorStrings {
		server = append(server, mustHex(f, e.WireHex))
	}
	for _, rc := range replayCases {
		sc := loadScenario(f, rc.name)
		for _, c := range sc.Connections {
			client = append(client, mustHex(f, c.C2SHex))
			server = append(server, mustHex(f, c.S2CHex))
			for _, fr := range c.C2SFrames {
				client = append(client, []byte(fr))
			}
			for _, fr := range c.S2CFrames {
				server = append(server, []byte(fr))
			}
		}
	}
	return dedupe(client), dedupe(server)
}

func dedupe(in [][]byte) [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for _, b := range in {
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, b)
		}
	}
	return out
}

// FuzzFrameReader: the reader never panics, never returns a frame over
// MaxFrameLength, and its frames plus what it holds back are the input.
func FuzzFrameReader(f *testing.F) {
	client, server := fuzzSeeds(f)
	for _, s := range append(client, server...) {
		f.Add(s)
	}
	f.Add(bytes.Repeat([]byte("x"), 300))
	f.Add(append(frameOfLen(256), 0, 'a'))
	f.Add(append(frameOfLen(257), 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, rk := range readerKinds {
			src := rk.wrap(bytes.NewReader(in))
			fr := newFrameReader(src)
			var re []byte
			for {
				frame, err := fr.next()
				if err == io.EOF {
					// The last frame may have had no NUL.
					if len(in) > 0 && in[len(in)-1] != 0 && len(re) > 0 {
						re = re[:len(re)-1]
					}
					break
				}
				if errors.Is(err, ErrFrameTooLong) {
					if len(fr.buffered()) <= MaxFrameLength {
						t.Fatalf("%s: ErrFrameTooLong with %d bytes buffered", rk.name, len(fr.buffered()))
					}
					rest, _ := io.ReadAll(src)
					re = append(append(re, fr.buffered()...), rest...)
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", rk.name, err)
				}
				if len(frame) > MaxFrameLength || bytes.IndexByte(frame, 0) >= 0 {
					t.Fatalf("%s: bad frame %q", rk.name, frame)
				}
				re = append(append(re, frame...), 0)
			}
			if !bytes.Equal(re, in) {
				t.Fatalf("%s: frames and leftover give\n %q\nnot the input\n %q", rk.name, re, in)
			}
		}
	})
}

// FuzzClientMessage: decoding never panics, and whatever decodes encodes
// to a frame that decodes to the same message.
func FuzzClientMessage(f *testing.F) {
	client, _ := fuzzSeeds(f)
	fuzzRoundTrip(f, client, (*frameReader).readClient)
}

// FuzzServerMessage is FuzzClientMessage for server messages.
func FuzzServerMessage(f *testing.F) {
	_, server := fuzzSeeds(f)
	fuzzRoundTrip(f, server, (*frameReader).readServer)
}

// message is what ClientMessage and ServerMessage have in common for the
// round-trip fuzz targets.
type message interface {
	comparable
	json.Marshaler
}

// fuzzRoundTrip seeds f with frames and checks that decoding never panics,
// fails only with ErrParse, and that whatever decodes encodes to a frame
// that read decodes to the same message.
func fuzzRoundTrip[M message, PM interface {
	*M
	UnmarshalJSON([]byte) error
}](f *testing.F, seeds [][]byte, read func(*frameReader) (M, error)) {
	for _, s := range seeds {
		f.Add(bytes.TrimSuffix(s, []byte{0}))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var m M
		if err := PM(&m).UnmarshalJSON(in); err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("%q: error %v is not ErrParse", in, err)
			}
			return
		}
		wire := encodeFrame(m)
		if len(wire)-1 > MaxFrameLength {
			// Decoding has no length limit; the frame reader has. A
			// message this long could never have arrived as a frame.
			return
		}
		back, err := read(newFrameReader(bytes.NewReader(wire)))
		if err != nil || back != m {
			t.Fatalf("%q decoded to %+v, which encodes to %q and decodes to %+v, %v", in, m, wire, back, err)
		}
	})
}

// FuzzServerHandshake feeds arbitrary bytes as a client to a real Server.
// The first byte picks the server (bit 0: with a secret) and whether the
// fuzzer's bytes follow a right answer to the challenge (bit 1). The
// server must never panic, must send only valid frames, and must close
// the connection within its timeouts unless it opened a tunnel.
func FuzzServerHandshake(f *testing.F) {
	client, _ := fuzzSeeds(f)
	for _, s := range client {
		if bytes.IndexByte(s, 0) < 0 {
			continue // single frames: their streams are seeds already
		}
		for _, mode := range []byte{0, 1, 3} {
			f.Add(append([]byte{mode}, s...))
		}
	}
	port := freePort(f)
	mk := func(secret string) *Server {
		s, err := NewServer(ServerConfig{MinPort: port, MaxPort: port, Secret: secret, BindTunnels: "127.0.0.1"})
		if err != nil {
			f.Fatal(err)
		}
		s.handshakeTimeout = 50 * time.Millisecond
		s.heartbeat = time.Hour
		return s
	}
	servers := [2]*Server{mk(""), mk("bore-test-secret")}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		mode, in := in[0], in[1:]
		srv := servers[mode&1]
		cc, sc := net.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan struct{})
		go func() {
			defer close(served)
			srv.handleConn(ctx, sc)
		}()
		var clientWG sync.WaitGroup
		defer func() {
			cancel()
			cc.Close()
			<-served
			clientWG.Wait()
		}()

		// The client: answer the challenge if asked to, then send in.
		// Reads go on in the background and stop at the server's close.
		fr := newFrameReader(cc)
		frames := make(chan ServerMessage, 64)
		readErr := make(chan error, 1)
		written := make(chan struct{})
		clientWG.Add(1)
		go func() {
			defer clientWG.Done()
			defer close(written)
			out := in
			if mode&1 == 1 && mode&2 == 2 {
				m, err := fr.readServer()
				if err != nil || m.Kind != ServerChallenge {
					readErr <- errors.New("first frame is not a Challenge")
					return
				}
				frames <- m
				out = append(encodeFrame(ClientMessage{Kind: ClientAuthenticate, Answer: newAuthenticator("bore-test-secret").answer(m.ID)}), in...)
			}
			clientWG.Add(1)
			go func() {
				defer clientWG.Done()
				for {
					m, err := fr.readServer()
					if err != nil {
						readErr <- err
						return
					}
					frames <- m
				}
			}()
			cc.Write(out)
		}()

		limit := time.After(2*srv.handshakeTimeout + 10*time.Second)
		var got []ServerMessage
		for {
			select {
			case m := <-frames:
				got = append(got, m)
				if mode&1 == 1 && len(got) == 1 && m.Kind != ServerChallenge {
					t.Fatalf("first frame %+v, want a Challenge", m)
				}
				if m.Kind == ServerHello {
					if m.Port != port {
						t.Fatalf("Hello(%d) outside the range %d-%d", m.Port, port, port)
					}
					return // a tunnel: it stays open, as it should
				}
			case err := <-readErr:
				if err != io.EOF && !errors.Is(err, io.ErrClosedPipe) {
					t.Fatalf("server sent something that is not a frame: %v (frames %+v)", err, got)
				}
				<-written
				return
			case <-limit:
				t.Fatalf("connection still open long after the handshake timeout (frames %+v)", got)
			}
		}
	})
}

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) uint16 {
	tb.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	p, _ := strconv.Atoi(strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:"))
	return uint16(p)
}

// FuzzFastDecode: the decoders' fast paths for the frames every visitor
// costs agree with the general parser: whatever a fast path accepts, the
// general parser accepts as the same message.
func FuzzFastDecode(f *testing.F) {
	client, server := fuzzSeeds(f)
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	for _, s := range append(client, server...) {
		f.Add(bytes.TrimSuffix(s, []byte{0}))
	}
	for _, s := range []string{
		`{"Accept":"` + id.String() + `"}`, `{"Connection":"` + strings.ToUpper(id.String()) + `"}`,
		`{"Challenge":"` + id.String() + `"}`, `{"Authenticate":"` + strings.Repeat("ab", 32) + `"}`,
		`"Heartbeat"`, `{"Accept":"6ba7b810-9dad-11d1-80b4-00c04fd430cg"}`, `{"Accept":"6ba7b8109-dad-11d1-80b4-00c04fd430c8"}`,
		`{"Authenticate":"a\\b"}`, `{"Authenticate":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if m, ok := fastClient(in); ok {
			var g ClientMessage
			if err := g.unmarshalGeneral(in); err != nil || g != m {
				t.Fatalf("%q: fast path gives %+v, general parser %+v, %v", in, m, g, err)
			}
		}
		if m, ok := fastServer(in); ok {
			var g ServerMessage
			if err := g.unmarshalGeneral(in); err != nil || g != m {
				t.Fatalf("%q: fast path gives %+v, general parser %+v, %v", in, m, g, err)
			}
		}
	})
}
