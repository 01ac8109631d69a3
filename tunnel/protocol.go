package tunnel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Protocol constants. Each is bore's value; the comments say where it
// matters.
const (
	// DefaultControlPort is bore's control port, fixed in every upstream
	// version; ours can be changed with --control-port.
	DefaultControlPort = 7835

	// MaxFrameLength is the longest frame, in bytes before the NUL, that a
	// receiver accepts. bore's codec refuses a 257th byte with no NUL
	// among them; the longest real frame (Authenticate) is 83 bytes.
	MaxFrameLength = 256

	// NetworkTimeout bounds every dial and every handshake read, as in
	// bore: a peer that stalls a handshake for longer is dropped.
	NetworkTimeout = 3 * time.Second

	// HeartbeatInterval is how often a server sends Heartbeat on an idle
	// control connection.
	HeartbeatInterval = 500 * time.Millisecond

	// PendingTimeout is how long a visitor waits for its Accept before the
	// server drops it. It bounds the memory an unclaimed visitor holds.
	PendingTimeout = 10 * time.Second
)

// Error strings that cross the wire. They are bore's exact words: clients
// and servers of either implementation match on them.
const (
	errTextInvalidSecret   = "invalid secret"
	errTextSecretRequired  = "server requires secret, but no secret was provided"
	errTextTimeout         = "timed out waiting for initial message"
	errTextParse           = "unable to parse message"
	errTextFrameLength     = "frame error, invalid byte length"
	errTextPortRange       = "client port number not in allowed range"
	errTextPortInUse       = "port already in use"
	errTextNoFreePort      = "failed to find an available port"
	errTextPermission      = "permission denied"
	errTextBindFailed      = "failed to bind to port"
	errTextTooManyTunnels  = "too many tunnels from this address"
	errTextServerBusy      = "server is busy, try again later"
	errTextUnexpectedFrame = "unexpected initial non-hello message"
)

// Sentinel errors for conditions callers branch on.
var (
	// ErrFrameTooLong reports a frame over MaxFrameLength bytes.
	ErrFrameTooLong = errors.New(errTextFrameLength)
	// ErrParse reports a frame that is not a valid message.
	ErrParse = errors.New(errTextParse)
)

// ClientKind is the variant of a ClientMessage.
type ClientKind int

// The client message variants, in bore's order.
const (
	ClientAuthenticate ClientKind = iota + 1
	ClientHello
	ClientAccept
)

// ClientMessage is a frame sent by a client: Authenticate(answer),
// Hello(port) or Accept(id).
type ClientMessage struct {
	Kind   ClientKind
	Answer string    // Authenticate: hex HMAC answer
	Port   uint16    // Hello: requested port, 0 = any
	ID     uuid.UUID // Accept: the visitor's id
}

// ServerKind is the variant of a ServerMessage.
type ServerKind int

// The server message variants, in bore's order.
const (
	ServerChallenge ServerKind = iota + 1
	ServerHello
	ServerHeartbeat
	ServerConnection
	ServerErr
)

// ServerMessage is a frame sent by a server: Challenge(id), Hello(port),
// Heartbeat, Connection(id) or Error(text).
type ServerMessage struct {
	Kind ServerKind
	ID   uuid.UUID // Challenge, Connection
	Port uint16    // Hello: the public port
	Text string    // Error
}

// MarshalJSON encodes m as serde does: {"Variant":value}.
func (m ClientMessage) MarshalJSON() ([]byte, error) {
	if m.Kind < ClientAuthenticate || m.Kind > ClientAccept {
		return nil, fmt.Errorf("unknown client message kind %d", m.Kind)
	}
	return m.appendJSON(nil), nil
}

// appendJSON appends m's JSON to b. m.Kind must be valid.
func (m ClientMessage) appendJSON(b []byte) []byte {
	switch m.Kind {
	case ClientAuthenticate:
		b = append(b, `{"Authenticate":`...)
		b = appendJSONString(b, m.Answer)
	case ClientHello:
		b = append(b, `{"Hello":`...)
		b = strconv.AppendUint(b, uint64(m.Port), 10)
	case ClientAccept:
		b = append(b, `{"Accept":`...)
		b = appendUUIDString(b, m.ID)
	}
	return append(b, '}')
}

// MarshalJSON encodes m as serde does: {"Variant":value}, and the unit
// variant Heartbeat as the bare string "Heartbeat".
func (m ServerMessage) MarshalJSON() ([]byte, error) {
	if m.Kind < ServerChallenge || m.Kind > ServerErr {
		return nil, fmt.Errorf("unknown server message kind %d", m.Kind)
	}
	return m.appendJSON(nil), nil
}

// appendJSON appends m's JSON to b. m.Kind must be valid.
func (m ServerMessage) appendJSON(b []byte) []byte {
	switch m.Kind {
	case ServerChallenge:
		b = append(b, `{"Challenge":`...)
		b = appendUUIDString(b, m.ID)
	case ServerHello:
		b = append(b, `{"Hello":`...)
		b = strconv.AppendUint(b, uint64(m.Port), 10)
	case ServerHeartbeat:
		return append(b, `"Heartbeat"`...)
	case ServerConnection:
		b = append(b, `{"Connection":`...)
		b = appendUUIDString(b, m.ID)
	case ServerErr:
		b = append(b, `{"Error":`...)
		b = appendJSONString(b, m.Text)
	}
	return append(b, '}')
}

// appendUUIDString appends id as a JSON string, hyphenated lowercase hex,
// as the uuid crate writes it.
func appendUUIDString(b []byte, id uuid.UUID) []byte {
	const digits = "0123456789abcdef"
	b = append(b, '"')
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, digits[c>>4], digits[c&15])
	}
	return append(b, '"')
}

// appendJSONString appends s as a JSON string without HTML escaping, as
// serde_json writes it. Printable ASCII without quotes or backslashes, as
// in every string the protocol sends, is copied as it is.
func appendJSONString(b []byte, s string) []byte {
	if !plainASCII(s) {
		return append(b, jsonString(s)...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainASCII reports whether s is printable ASCII without '"' or '\\':
// the bytes JSON needs no escape for and that mean themselves.
func plainASCII[T string | []byte](s T) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// jsonString encodes s as a JSON string without HTML escaping, as
// serde_json does.
func jsonString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Frames as every implementation writes them: no whitespace, a UUID
// hyphenated. Decoding checks for these first and leaves anything else to
// the general parser, which accepts the same frames with the same result.
const (
	acceptPrefix     = `{"Accept":"`
	connectionPrefix = `{"Connection":"`
	challengePrefix  = `{"Challenge":"`
	authPrefix       = `{"Authenticate":"`
	heartbeatFrame   = `"Heartbeat"`
)

// fastUUID decodes data when it is prefix, a hyphenated UUID and `"}`.
func fastUUID(data []byte, prefix string) (uuid.UUID, bool) {
	if len(data) != len(prefix)+36+2 || string(data[:len(prefix)]) != prefix || string(data[len(data)-2:]) != `"}` {
		return uuid.UUID{}, false
	}
	return parseHyphenated(data[len(prefix) : len(prefix)+36])
}

// parseHyphenated decodes a 36-byte hyphenated UUID of either case.
func parseHyphenated(s []byte) (uuid.UUID, bool) {
	var id uuid.UUID
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i--
			continue
		}
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return uuid.UUID{}, false
		}
		id[j] = hi<<4 | lo
		j++
	}
	return id, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// UnmarshalJSON decodes a client message, accepting what serde accepts and
// refusing what it refuses.
func (m *ClientMessage) UnmarshalJSON(data []byte) error {
	if fm, ok := fastClient(data); ok {
		*m = fm
		return nil
	}
	return m.unmarshalGeneral(data)
}

// fastClient decodes the client frames of every visitor, as clients write
// them; ok is false for anything else.
func fastClient(data []byte) (m ClientMessage, ok bool) {
	if id, ok := fastUUID(data, acceptPrefix); ok {
		return ClientMessage{Kind: ClientAccept, ID: id}, true
	}
	if n := len(data); n > len(authPrefix)+2 && string(data[:len(authPrefix)]) == authPrefix &&
		string(data[n-2:]) == `"}` && plainASCII(data[len(authPrefix):n-2]) {
		return ClientMessage{Kind: ClientAuthenticate, Answer: string(data[len(authPrefix) : n-2])}, true
	}
	return ClientMessage{}, false
}

// unmarshalGeneral is UnmarshalJSON for any spelling serde accepts.
func (m *ClientMessage) unmarshalGeneral(data []byte) error {
	tag, value, err := splitTagged(data)
	if err != nil {
		return err
	}
	var out ClientMessage
	switch tag {
	case "Authenticate":
		out.Kind = ClientAuthenticate
		err = json.Unmarshal(value, &out.Answer)
		if err == nil && value[0] != '"' {
			err = ErrParse // null is not a string for serde
		}
	case "Hello":
		out.Kind = ClientHello
		out.Port, err = parsePort(value)
	case "Accept":
		out.Kind = ClientAccept
		out.ID, err = parseUUID(value)
	default:
		err = fmt.Errorf("unknown variant %q", tag)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrParse, err)
	}
	*m = out
	return nil
}

// UnmarshalJSON decodes a server message, accepting what serde accepts and
// refusing what it refuses.
func (m *ServerMessage) UnmarshalJSON(data []byte) error {
	if fm, ok := fastServer(data); ok {
		*m = fm
		return nil
	}
	return m.unmarshalGeneral(data)
}

// fastServer decodes the server frames of every visitor and heartbeat, as
// servers write them; ok is false for anything else.
func fastServer(data []byte) (m ServerMessage, ok bool) {
	if string(data) == heartbeatFrame {
		return ServerMessage{Kind: ServerHeartbeat}, true
	}
	if id, ok := fastUUID(data, connectionPrefix); ok {
		return ServerMessage{Kind: ServerConnection, ID: id}, true
	}
	if id, ok := fastUUID(data, challengePrefix); ok {
		return ServerMessage{Kind: ServerChallenge, ID: id}, true
	}
	return ServerMessage{}, false
}

// unmarshalGeneral is UnmarshalJSON for any spelling serde accepts.
func (m *ServerMessage) unmarshalGeneral(data []byte) error {
	data = bytes.Trim(data, jsonSpace)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("%w: %v", ErrParse, err)
		}
		if s != "Heartbeat" {
			return fmt.Errorf("%w: unknown variant %q", ErrParse, s)
		}
		*m = ServerMessage{Kind: ServerHeartbeat}
		return nil
	}
	tag, value, err := splitTagged(data)
	if err != nil {
		return err
	}
	var out ServerMessage
	switch tag {
	case "Challenge":
		out.Kind = ServerChallenge
		out.ID, err = parseUUID(value)
	case "Hello":
		out.Kind = ServerHello
		out.Port, err = parsePort(value)
	case "Heartbeat":
		out.Kind = ServerHeartbeat
		if string(value) != "null" {
			err = errors.New("heartbeat takes no value")
		}
	case "Connection":
		out.Kind = ServerConnection
		out.ID, err = parseUUID(value)
	case "Error":
		out.Kind = ServerErr
		err = json.Unmarshal(value, &out.Text)
		if err == nil && value[0] != '"' {
			err = errors.New("Error takes a string")
		}
	default:
		err = fmt.Errorf("unknown variant %q", tag)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrParse, err)
	}
	*m = out
	return nil
}

// splitTagged parses {"Tag": value} with exactly one key, as serde's
// externally tagged enums require, and returns the tag and the raw value.
func splitTagged(data []byte) (string, json.RawMessage, error) {
	if !utf8.Valid(data) || !json.Valid(data) {
		return "", nil, fmt.Errorf("%w: not valid JSON", ErrParse)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return "", nil, fmt.Errorf("%w: expected an object", ErrParse)
	}
	tok, err = dec.Token()
	tag, ok := tok.(string)
	if err != nil || !ok {
		return "", nil, fmt.Errorf("%w: expected one variant", ErrParse)
	}
	var value json.RawMessage
	if err := dec.Decode(&value); err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return "", nil, fmt.Errorf("%w: expected exactly one variant", ErrParse)
	}
	return tag, bytes.TrimSpace(value), nil
}

// parsePort accepts a JSON integer from 0 to 65535 and nothing else: no
// string, no fraction, no exponent, no sign.
func parsePort(value []byte) (uint16, error) {
	n, err := strconv.ParseUint(string(value), 10, 16)
	if err != nil {
		return 0, fmt.Errorf("invalid port %s", value)
	}
	return uint16(n), nil
}

// parseUUID accepts a JSON string holding a UUID in any spelling the Rust
// uuid crate accepts: hyphenated, simple, braced or urn:uuid:, any case.
func parseUUID(value []byte) (uuid.UUID, error) {
	var s string
	if len(value) == 0 || value[0] != '"' {
		return uuid.UUID{}, errors.New("expected a UUID string")
	}
	if err := json.Unmarshal(value, &s); err != nil {
		return uuid.UUID{}, err
	}
	// uuid.Parse is laxer than the uuid crate: it takes any two characters
	// around a braced UUID and "urn:uuid:" in any case.
	switch {
	case len(s) == 38 && (s[0] != '{' || s[37] != '}'),
		len(s) == 45 && s[:9] != "urn:uuid:":
		return uuid.UUID{}, fmt.Errorf("invalid UUID %q", s)
	}
	return uuid.Parse(s)
}

// jsonSpace is the whitespace JSON allows around tokens; bytes.TrimSpace
// would also strip Unicode spaces, which serde_json refuses.
const jsonSpace = " \t\r\n"

// encodeFrame returns m's JSON followed by the NUL delimiter.
func encodeFrame(m json.Marshaler) []byte {
	switch m := m.(type) {
	case ClientMessage:
		return appendClientFrame(nil, m)
	case ServerMessage:
		return appendServerFrame(nil, m)
	}
	b, err := m.MarshalJSON()
	if err != nil {
		panic(err)
	}
	return append(b, 0)
}

// appendClientFrame appends m's frame, its JSON and the NUL, to b.
func appendClientFrame(b []byte, m ClientMessage) []byte {
	if m.Kind < ClientAuthenticate || m.Kind > ClientAccept {
		panic(fmt.Sprintf("unknown client message kind %d", m.Kind)) // a programming error
	}
	return append(m.appendJSON(b), 0)
}

// appendServerFrame appends m's frame, its JSON and the NUL, to b.
func appendServerFrame(b []byte, m ServerMessage) []byte {
	if m.Kind < ServerChallenge || m.Kind > ServerErr {
		panic(fmt.Sprintf("unknown server message kind %d", m.Kind)) // a programming error
	}
	return append(m.appendJSON(b), 0)
}

// frameReader reads NUL-delimited frames from a stream. It buffers at most
// one frame plus what arrived with it, and hands over the bytes read past
// the last frame when the stream turns into raw tunnel data.
type frameReader struct {
	r          io.Reader
	buf        []byte
	start, end int
	eof        bool
}

func newFrameReader(r io.Reader) *frameReader {
	// MaxFrameLength+1 bytes is the most a frame needs, and a little more
	// lets a pipelined second frame arrive in the same read.
	return &frameReader{r: r, buf: make([]byte, 2*MaxFrameLength+2)}
}

// next returns the next frame without its NUL. At end of stream, bytes
// left over without a NUL are still a frame, as in bore; after that it
// returns io.EOF. The frame is valid until the next call.
func (f *frameReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(f.buf[f.start:f.end], 0); i >= 0 {
			frame := f.buf[f.start : f.start+i]
			if len(frame) > MaxFrameLength {
				return nil, ErrFrameTooLong
			}
			f.start += i + 1
			return frame, nil
		}
		if f.end-f.start > MaxFrameLength {
			return nil, ErrFrameTooLong
		}
		if f.eof {
			if f.end > f.start {
				frame := f.buf[f.start:f.end]
				f.start = f.end
				return frame, nil
			}
			return nil, io.EOF
		}
		if f.start > 0 {
			f.end = copy(f.buf, f.buf[f.start:f.end])
			f.start = 0
		}
		n, err := f.r.Read(f.buf[f.end:])
		f.end += n
		if err == io.EOF {
			f.eof = true
		} else if err != nil {
			return nil, err
		}
	}
}

// complete reports whether next can return without reading: a whole
// frame, or the end of the stream, is buffered.
func (f *frameReader) complete() bool {
	return f.eof || bytes.IndexByte(f.buf[f.start:f.end], 0) >= 0
}

// buffered returns the bytes read past the last frame.
func (f *frameReader) buffered() []byte {
	return f.buf[f.start:f.end]
}

// readClient reads and decodes one client frame.
func (f *frameReader) readClient() (ClientMessage, error) {
	frame, err := f.next()
	if err != nil {
		return ClientMessage{}, err
	}
	var m ClientMessage
	if err := m.UnmarshalJSON(frame); err != nil {
		return ClientMessage{}, err
	}
	return m, nil
}

// readServer reads and decodes one server frame.
func (f *frameReader) readServer() (ServerMessage, error) {
	frame, err := f.next()
	if err != nil {
		return ServerMessage{}, err
	}
	var m ServerMessage
	if err := m.UnmarshalJSON(frame); err != nil {
		return ServerMessage{}, err
	}
	return m, nil
}
