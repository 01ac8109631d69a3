package cli

import (
	"context"
	"runtime/debug"
	"time"
)

// trimInterval is how often a command checks whether it has gone quiet.
const trimInterval = 2 * time.Second

// trimWhenQuiet gives memory back to the operating system each time the
// process goes quiet: once activity (a counter of tunnels and visitors)
// has not moved for trimInterval after it last moved, and once after
// start-up. It returns the Go heap's free pages (debug.FreeOSMemory) and
// unmaps the executable's read-only pages (see dropCodePages), which the
// kernel maps back from its page cache when they are next used. A process
// under steady load never trims; one that is idle trims once and then only
// samples the counter.
func trimWhenQuiet(ctx context.Context, activity func() int64) {
	go func() {
		tick := time.NewTicker(trimInterval)
		defer tick.Stop()
		last, trimmed := activity(), false
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if now := activity(); now != last {
				last, trimmed = now, false
				continue
			}
			if !trimmed {
				debug.FreeOSMemory()
				dropCodePages()
				trimmed = true
			}
		}
	}()
}
