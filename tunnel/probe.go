package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// Probe checks that a bore server answers on its control port and, when
// secret is set, accepts it, without opening a tunnel: it connects,
// answers the challenge if there is one, and sends an Accept for a visitor
// that does not exist, which every bore server answers by closing the
// connection. It returns how long the TCP connect took.
//
// The error says what is wrong, as Run's would: a dial error ("could not
// connect to ..."), ErrAuthRequired (the server wants a secret and none was
// given), ErrNoAuthExpected (a secret was given and the server uses none)
// or a *ServerError (ErrInvalidSecret for a refused secret).
func Probe(ctx context.Context, server string, controlPort uint16, secret string) (time.Duration, error) {
	host, port, err := splitServer(server, controlPort)
	if err != nil {
		return 0, err
	}
	addr := joinHostPort(host, port)
	dctx, cancel := context.WithTimeout(ctx, NetworkTimeout)
	defer cancel()
	var d net.Dialer
	start := time.Now()
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("could not connect to %s: %w", addr, err)
	}
	rtt := time.Since(start)
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	conn.SetDeadline(time.Now().Add(NetworkTimeout))
	fr := newFrameReader(conn)
	accept := encodeFrame(ClientMessage{Kind: ClientAccept, ID: uuid.New()})
	if secret != "" {
		msg, err := fr.readServer()
		switch {
		case errors.Is(err, io.EOF), isTimeout(err):
			return rtt, ErrNoAuthExpected
		case err != nil:
			return rtt, readErr(err)
		case msg.Kind == ServerErr:
			return rtt, &ServerError{Text: msg.Text}
		case msg.Kind != ServerChallenge:
			return rtt, ErrNoAuthExpected
		}
		auth := encodeFrame(ClientMessage{Kind: ClientAuthenticate, Answer: newAuthenticator(secret).answer(msg.ID)})
		accept = append(auth, accept...)
	}
	if _, err := conn.Write(accept); err != nil {
		return rtt, fmt.Errorf("send to server: %w", err)
	}
	msg, err := fr.readServer()
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err):
		return rtt, nil // the unknown visitor was turned away: all is well
	case err != nil:
		return rtt, readErr(err)
	case msg.Kind == ServerErr:
		return rtt, &ServerError{Text: msg.Text}
	case msg.Kind == ServerChallenge:
		return rtt, ErrAuthRequired
	}
	return rtt, nil
}

// isReset reports a connection the peer reset, as a server closing with
// unread data does.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
