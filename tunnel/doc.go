// Package tunnel implements bore's tunnel protocol: a server that hands out
// public TCP ports and a client that forwards them to a local service.
//
// The wire format is bore's (ekzhang/bore), byte for byte: NUL-delimited JSON
// frames of at most 256 bytes on a control port (7835 by default), an
// HMAC-SHA256 challenge on every connection when a secret is set, and one extra
// TCP connection per visitor. Beyond bore, and still compatible on the wire,
// the client reconnects by itself and asks for the same port again, watches the
// server's heartbeats to notice a dead connection, and reports its state to
// observers through a Manager.
package tunnel
