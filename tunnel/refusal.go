package tunnel

// Refusal names why a server refused a connection, a tunnel or a visitor.
// Its value is the label the server's metrics use.
type Refusal string

// The reasons a server refuses work, counted in ServerStats.Refused.
const (
	// RefusedBusy: too many connections were in their handshake.
	RefusedBusy Refusal = "busy"
	// RefusedPerIP: the client's address holds too many tunnels.
	RefusedPerIP Refusal = "per_ip"
	// RefusedPending: too many visitors were waiting to be accepted.
	RefusedPending Refusal = "pending"
	// RefusedPendingIP: the tunnels of one client address (an IPv6 /64)
	// held their share of the server's pending visitors.
	RefusedPendingIP Refusal = "pending_ip"
	// RefusedAuth: the client failed authentication.
	RefusedAuth Refusal = "auth"
	// RefusedPort: the public port asked for is not available.
	RefusedPort Refusal = "port"
	// RefusedProtocol: a malformed, unexpected or timed-out handshake.
	RefusedProtocol Refusal = "protocol"
	// RefusedExpired: a visitor was never accepted by its client.
	RefusedExpired Refusal = "expired"
	// RefusedUnknownID: an Accept named a visitor the server does not have.
	RefusedUnknownID Refusal = "unknown_id"
)

// Refusals returns every Refusal, in a fixed order.
func Refusals() []Refusal {
	return []Refusal{RefusedBusy, RefusedPerIP, RefusedPending, RefusedPendingIP, RefusedAuth,
		RefusedPort, RefusedProtocol, RefusedExpired, RefusedUnknownID}
}
