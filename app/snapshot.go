package app

import (
	"fmt"

	"github.com/boretray/bore/tunnel"
)

// onSnapshot takes the engine's new report and tells the user what changed:
// a tunnel opened, came back (same address or not), failed, could not reach
// its local service, or got a visitor.
func (c *Controller) onSnapshot(s tunnel.Snapshot) {
	prev := c.m.Snapshot
	c.m.Snapshot = s
	for _, st := range s.Tunnels {
		old, had := prev.Find(st.ID)
		c.announce(old, had, st)
	}
	for _, old := range prev.Tunnels {
		if _, ok := s.Find(old.ID); !ok {
			c.forget(old.ID)
		}
	}
}

func (c *Controller) announce(old tunnel.Status, had bool, st tunnel.Status) {
	local := localAddr(st)
	wasOpen := had && old.State == tunnel.StateOpen
	switch {
	case st.State == tunnel.StateOpen && had && old.State == tunnel.StateReconnecting && old.RemotePort != 0:
		if old.RemotePort == st.RemotePort {
			c.notify("Tunnel reconnected", fmt.Sprintf("%s reconnected — same address %s", local, st.PublicAddr()))
			break
		}
		c.announceOpen(st, "%s reconnected, address changed — new one copied: %s",
			"%s reconnected, address changed to %s")
	case st.State == tunnel.StateOpen && !wasOpen:
		c.announceOpen(st, "%s is public at %s — address copied", "%s is public at %s")
	case st.State == tunnel.StateFailed && (!had || old.State != tunnel.StateFailed):
		reason := failReason(st)
		c.log.Warn("tunnel failed", "id", st.ID, "local", local, "reason", reason)
		c.alert("Could not share "+local, reason)
	}
	if st.LocalError != "" && (!had || old.LocalError == "") {
		c.alert("A visitor was turned away",
			fmt.Sprintf("A visitor arrived at %s, but %s. Start the service on %s; later visitors will get through.",
				st.PublicAddr(), st.LocalError, local))
	}
	if had && st.Total > old.Total && c.m.Settings.NotifyOnConnection {
		n := st.Total - old.Total
		body := fmt.Sprintf("A visitor connected to %s (%s).", st.PublicAddr(), local)
		if n > 1 {
			body = fmt.Sprintf("%d visitors connected to %s (%s).", n, st.PublicAddr(), local)
		}
		c.notify("New connection", body)
	}
}

// announceOpen copies the address when the user wants it and says so;
// copied and plain are formats taking the local and public addresses.
func (c *Controller) announceOpen(st tunnel.Status, copied, plain string) {
	local, addr := localAddr(st), st.PublicAddr()
	c.log.Info("tunnel open", "id", st.ID, "local", local, "public", addr)
	if !c.m.Settings.CopyOnOpen {
		c.notify("Tunnel open", fmt.Sprintf(plain, local, addr))
		return
	}
	if err := c.copyText(addr); err != nil {
		c.notify("Tunnel open", fmt.Sprintf(plain, local, addr)+fmt.Sprintf(" (could not copy it: %v)", err))
		return
	}
	c.notify("Tunnel open", fmt.Sprintf(copied, local, addr))
}
