//go:build !linux

package ports

import (
	"context"
	"fmt"

	"github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// cache remembers process names by PID between scans.
type cache struct {
	names map[int32]string
}

// listening asks gopsutil for TCP sockets in LISTEN state and names their
// processes, reusing names already looked up.
func (c *cache) listening(ctx context.Context) ([]Port, error) {
	conns, err := net.ConnectionsWithContext(ctx, "tcp")
	if err != nil {
		return nil, fmt.Errorf("could not list listening ports: %w", err)
	}
	if c.names == nil {
		c.names = make(map[int32]string)
	}
	seen := make(map[int32]bool)
	out := make([]Port, 0, len(conns))
	for _, cn := range conns {
		if cn.Status != "LISTEN" {
			continue
		}
		name, ok := c.names[cn.Pid]
		if !ok && cn.Pid > 0 {
			if p, err := process.NewProcessWithContext(ctx, cn.Pid); err == nil {
				name, _ = p.NameWithContext(ctx)
			}
			c.names[cn.Pid] = name
		}
		seen[cn.Pid] = true
		out = append(out, Port{Port: uint16(cn.Laddr.Port), Addr: cn.Laddr.IP, PID: cn.Pid, Process: name})
	}
	for pid := range c.names {
		if !seen[pid] {
			delete(c.names, pid)
		}
	}
	return dedupe(out), nil
}
