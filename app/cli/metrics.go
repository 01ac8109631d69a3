package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/boretray/bore/tunnel"
)

// serverCollector exports a server's counters to Prometheus. It reads
// Server.Stats when scraped, so the data path pays nothing for metrics.
type serverCollector struct {
	srv *tunnel.Server

	tunnels, pending, active *prometheus.Desc
	visitors, bytes, refused *prometheus.Desc
	unused                   *prometheus.Desc
}

func newServerCollector(srv *tunnel.Server) *serverCollector {
	return &serverCollector{
		srv:      srv,
		tunnels:  prometheus.NewDesc("bore_tunnels", "Tunnels open now (one per client control connection).", nil, nil),
		pending:  prometheus.NewDesc("bore_pending_visitors", "Visitors waiting for their client to accept them.", nil, nil),
		active:   prometheus.NewDesc("bore_active_visitors", "Visitor connections being forwarded now.", nil, nil),
		visitors: prometheus.NewDesc("bore_visitors_total", "Visitor connections forwarded since start.", nil, nil),
		bytes:    prometheus.NewDesc("bore_bytes_total", "Bytes forwarded, by direction: in is visitor to client, out is client to visitor.", []string{"direction"}, nil),
		refused:  prometheus.NewDesc("bore_refused_total", "Connections or visitors refused, by reason.", []string{"reason"}, nil),
		unused:   prometheus.NewDesc("bore_unused_connections_total", "Connections closed by their client before a first frame, such as ready accept connections retired unused; not refusals.", nil, nil),
	}
}

// Describe sends the metric descriptions.
func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tunnels, c.pending, c.active, c.visitors, c.bytes, c.refused, c.unused} {
		ch <- d
	}
}

// Collect reads the server's counters.
func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	ch <- prometheus.MustNewConstMetric(c.tunnels, prometheus.GaugeValue, float64(st.Tunnels))
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(st.Active))
	ch <- prometheus.MustNewConstMetric(c.visitors, prometheus.CounterValue, float64(st.Visitors))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.BytesIn), "in")
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.BytesOut), "out")
	ch <- prometheus.MustNewConstMetric(c.unused, prometheus.CounterValue, float64(st.Unused))
	// Every reason is exported, at zero until it happens, so dashboards and
	// alerts can rely on the series existing.
	for _, r := range tunnel.Refusals() {
		ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(st.Refused[r]), string(r))
	}
}

// serveMetrics serves /metrics on addr until ctx ends. The listener is
// opened before it returns, so a bad address fails the command at start.
func serveMetrics(ctx context.Context, addr string, srv *tunnel.Server, log *slog.Logger) (wait func(), err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newServerCollector(srv), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
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
