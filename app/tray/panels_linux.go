//go:build linux

package tray

import (
	"os"
	"time"

	"github.com/godbus/dbus/v5"
)

// getLayoutRule matches every dbusmenu GetLayout call on the bus. The
// session bus lets a user's programs see each other's messages
// (eavesdrop), which is how the shell learns that a panel started reading
// its menu.
const getLayoutRule = "type='method_call',interface='com.canonical.dbusmenu',member='GetLayout',eavesdrop='true'"

// getPropsRule matches the panels' property requests, which tell when a
// panel has realized a new submenu.
const getPropsRule = "type='method_call',interface='com.canonical.dbusmenu',member='GetGroupProperties',eavesdrop='true'"

// watchPanels starts watching for programs that read the tray's menu for
// the first time (a panel starting or restarting), and calls renew for
// each once it has read the menu. It uses a private connection of
// its own and only reads the shared one's name. Without a session bus, or
// where the bus does not allow watching, it does nothing: new submenus
// still get their children late, which covers a panel that reads the menu
// as it changes.
func (s *Shell) watchPanels() {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return
	}
	shared, err := dbus.SessionBus() // systray's, connected by now
	if err != nil || len(shared.Names()) == 0 {
		return
	}
	me := shared.Names()[0]
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return
	}
	for _, rule := range []string{getLayoutRule, getPropsRule} {
		if call := conn.BusObject().Call("org.freedesktop.DBus.AddMatch", 0, rule); call.Err != nil {
			conn.Close()
			return
		}
	}
	s.watching = true // s.mu is held: called from Render
	msgs := make(chan *dbus.Message, 64)
	conn.Eavesdrop(msgs)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer conn.Close()
		seen := map[string]bool{}
		for {
			select {
			case <-s.done:
				return
			case m := <-msgs:
				if m == nil || m.Type != dbus.TypeMethodCall {
					continue
				}
				var dest, sender string
				if v, ok := m.Headers[dbus.FieldDestination]; ok {
					dest, _ = v.Value().(string)
				}
				if v, ok := m.Headers[dbus.FieldSender]; ok {
					sender, _ = v.Value().(string)
				}
				if dest != me || sender == "" {
					continue
				}
				if v, ok := m.Headers[dbus.FieldMember]; ok && v.Value() == "GetGroupProperties" {
					if len(m.Body) > 0 {
						if ids, ok := m.Body[0].([]int32); ok {
							go s.requested(ids)
						}
					}
					continue
				}
				if seen[sender] {
					continue
				}
				seen[sender] = true
				// Once its first reading is done.
				time.AfterFunc(childDelay, s.renew)
			}
		}
	}()
}
