package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/boretray/bore/tunnel"
)

// The metrics are written in Prometheus' text exposition format (version
// 0.0.4) by hand: the format is a few lines per metric, and the client
// library with its protobuf dependencies cost every bore process about
// 0.7 MiB of resident memory at idle, metrics served or not.

// metricsContentType is the exposition format's media type.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// promWriter writes metric families in the text exposition format.
type promWriter struct{ w *bufio.Writer }

// family starts a metric family: its HELP and TYPE lines.
func (p promWriter) family(name, typ, help string) {
	fmt.Fprintf(p.w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
}

// sample writes one sample; labels alternate names and values.
func (p promWriter) sample(name string, v float64, labels ...string) {
	p.w.WriteString(name)
	if len(labels) > 0 {
		p.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				p.w.WriteByte(',')
			}
			fmt.Fprintf(p.w, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
		}
		p.w.WriteByte('}')
	}
	p.w.WriteByte(' ')
	p.w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	p.w.WriteByte('\n')
}

// metric writes a family of one unlabelled sample.
func (p promWriter) metric(name, typ, help string, v float64) {
	p.family(name, typ, help)
	p.sample(name, v)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

// writeMetrics writes the server's counters, then the Go runtime's and the
// process's usual metrics (go_*, process_*, named as Prometheus' Go client
// names them).
func writeMetrics(w io.Writer, srv *tunnel.Server) error {
	p := promWriter{bufio.NewWriter(w)}
	st := srv.Stats()
	p.metric("bore_tunnels", "gauge", "Tunnels open now (one per client control connection).", float64(st.Tunnels))
	p.metric("bore_pending_visitors", "gauge", "Visitors waiting for their client to accept them.", float64(st.Pending))
	p.metric("bore_active_visitors", "gauge", "Visitor connections being forwarded now.", float64(st.Active))
	p.metric("bore_visitors_total", "counter", "Visitor connections forwarded since start.", float64(st.Visitors))
	p.family("bore_bytes_total", "counter", "Bytes forwarded, by direction: in is visitor to client, out is client to visitor.")
	p.sample("bore_bytes_total", float64(st.BytesIn), "direction", "in")
	p.sample("bore_bytes_total", float64(st.BytesOut), "direction", "out")
	p.metric("bore_unused_connections_total", "counter", "Connections closed by their client before a first frame, such as ready accept connections retired unused; not refusals.", float64(st.Unused))
	// Every reason is exported, at zero until it happens, so dashboards and
	// alerts can rely on the series existing.
	p.family("bore_refused_total", "counter", "Connections or visitors refused, by reason.")
	for _, r := range tunnel.Refusals() {
		p.sample("bore_refused_total", float64(st.Refused[r]), "reason", string(r))
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.metric("go_goroutines", "gauge", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	p.family("go_info", "gauge", "Information about the Go environment.")
	p.sample("go_info", 1, "version", runtime.Version())
	p.metric("go_memstats_alloc_bytes", "gauge", "Number of bytes allocated in heap and currently in use.", float64(ms.HeapAlloc))
	p.metric("go_memstats_alloc_bytes_total", "counter", "Total number of bytes allocated in heap until now, even if released already.", float64(ms.TotalAlloc))
	p.metric("go_memstats_sys_bytes", "gauge", "Number of bytes obtained from system.", float64(ms.Sys))
	p.metric("go_memstats_heap_inuse_bytes", "gauge", "Number of heap bytes that are in use.", float64(ms.HeapInuse))
	p.metric("go_memstats_heap_idle_bytes", "gauge", "Number of heap bytes waiting to be used.", float64(ms.HeapIdle))
	p.metric("go_memstats_heap_released_bytes", "gauge", "Number of heap bytes released to OS.", float64(ms.HeapReleased))
	p.metric("go_memstats_heap_objects", "gauge", "Number of currently allocated objects.", float64(ms.HeapObjects))
	p.metric("go_memstats_stack_inuse_bytes", "gauge", "Number of bytes obtained from system for stack allocator in non-CGO environments.", float64(ms.StackInuse))
	p.metric("go_memstats_next_gc_bytes", "gauge", "Number of heap bytes when next garbage collection will take place.", float64(ms.NextGC))
	p.metric("go_memstats_last_gc_time_seconds", "gauge", "Number of seconds since 1970 of last garbage collection.", float64(ms.LastGC)/1e9)
	writeProcessMetrics(p)
	return p.w.Flush()
}

// serveMetrics serves /metrics on addr until ctx ends. The listener is
// opened before it returns, so a bad address fails the command at start.
func serveMetrics(ctx context.Context, addr string, srv *tunnel.Server, log *slog.Logger) (wait func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", metricsContentType)
		if err := writeMetrics(w, srv); err != nil {
			log.Debug("metrics scrape ended early", "err", err)
		}
	})
	ln, err := tunnel.Listen(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server failed", "err", err)
		}
	}()
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	})
	log.Info("metrics listening", "addr", "http://"+ln.Addr().String()+"/metrics", "ip", tunnel.ListenerFamilies(ln))
	return func() {
		<-done
		stop()
	}, nil
}
