// Command inspectbench measures what the traffic inspector costs: HTTP
// throughput and request rate through a tunnel with and without an
// Inspector, each against a direct loopback connection measured in the
// same run. Server, client and local service run in this process, on
// loopback. "make bench" runs it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/boretray/bore/app/inspect"
	"github.com/boretray/bore/tunnel"
)

func main() {
	size := flag.Int("size", 256, "MiB per bulk download")
	requests := flag.Int("requests", 5000, "requests per rate measurement")
	rounds := flag.Int("rounds", 3, "runs of each measurement; the median is shown")
	flag.Parse()
	if err := run(int64(*size)<<20, *requests, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "inspectbench:", err)
		os.Exit(1)
	}
}

// service is the local HTTP service: /bulk sends n bytes with a length,
// /chunked sends them chunked, anything else answers 1 KiB.
func service() (string, func(), error) {
	block := make([]byte, 256<<10)
	small := []byte(strings.Repeat("x", 1024))
	mux := http.NewServeMux()
	send := func(w http.ResponseWriter, r *http.Request, chunked bool) {
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		if !chunked {
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		for n > 0 {
			k := min(n, int64(len(block)))
			if _, err := w.Write(block[:k]); err != nil {
				return
			}
			n -= k
		}
	}
	mux.HandleFunc("/bulk", func(w http.ResponseWriter, r *http.Request) { send(w, r, false) })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) { send(w, r, true) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(small)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// openTunnel starts a server and a client for local, wrapped by wrap
// when it is not nil, and returns the public address.
func openTunnel(ctx context.Context, local string, wrap tunnel.ConnWrapper) (string, error) {
	srv, err := tunnel.NewServer(tunnel.ServerConfig{BindTunnels: "127.0.0.1"})
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go srv.Serve(ctx, ln)
	host, port, _ := net.SplitHostPort(local)
	p, _ := strconv.Atoi(port)
	t, err := tunnel.NewTunnel(tunnel.ClientConfig{Server: ln.Addr().String(), LocalHost: host, LocalPort: uint16(p), WrapLocal: wrap})
	if err != nil {
		return "", err
	}
	go t.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st := t.Status(); st.State == tunnel.StateOpen {
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(st.RemotePort))), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return "", fmt.Errorf("the tunnel did not open")
}

// download fetches path (n bytes) once and returns MB/s.
func download(addr, path string, n int64) (float64, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "GET %s?n=%d HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n", path, n)
	res, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	if err != nil {
		return 0, err
	}
	got, err := io.Copy(io.Discard, res.Body)
	if err != nil || got != n {
		return 0, fmt.Errorf("downloaded %d of %d bytes: %v", got, n, err)
	}
	return float64(n) / 1e6 / time.Since(start).Seconds(), nil
}

// rate sends n keep-alive requests on one connection and returns req/s.
func rate(addr string, n int) (float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	start := time.Now()
	for i := range n {
		res, err := c.Get("http://" + addr + "/r/" + strconv.Itoa(i))
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func median(f func() (float64, error), rounds int) (float64, error) {
	var v []float64
	for range rounds {
		x, err := f()
		if err != nil {
			return 0, err
		}
		v = append(v, x)
	}
	slices.Sort(v)
	return v[len(v)/2], nil
}

func run(size int64, requests, rounds int) error {
	local, stop, err := service()
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	plain, err := openTunnel(ctx, local, nil)
	if err != nil {
		return err
	}
	in, err := inspect.New(inspect.Options{Target: local})
	if err != nil {
		return err
	}
	defer in.Close()
	inspected, err := openTunnel(ctx, local, in)
	if err != nil {
		return err
	}
	fmt.Printf("inspector: HTTP through our tunnel in one process on loopback, %d cores; median of %d runs;\n", runtime.NumCPU(), rounds)
	fmt.Println("ratios are against a direct loopback connection measured in the same run")
	fmt.Printf("%-32s %14s %22s %22s\n", "", "direct", "tunnel", "tunnel + inspector")
	rows := []struct {
		name string
		unit string
		f    func(addr string) (float64, error)
	}{
		{fmt.Sprintf("download %d MiB, Content-Length", size>>20), "MB/s", func(a string) (float64, error) { return download(a, "/bulk", size) }},
		{fmt.Sprintf("download %d MiB, chunked", size>>20), "MB/s", func(a string) (float64, error) { return download(a, "/chunked", size) }},
		{fmt.Sprintf("%d requests of 1 KiB, keep-alive", requests), "req/s", func(a string) (float64, error) { return rate(a, requests) }},
	}
	for _, r := range rows {
		var vals [3]float64
		for i, addr := range []string{local, plain, inspected} {
			v, err := median(func() (float64, error) { return r.f(addr) }, rounds)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			vals[i] = v
		}
		fmt.Printf("%-32s %8.0f %-5s %8.0f %-5s (%.2fx) %8.0f %-5s (%.2fx)\n", r.name,
			vals[0], r.unit, vals[1], r.unit, vals[1]/vals[0], vals[2], r.unit, vals[2]/vals[0])
	}
	st := in.Stats()
	fmt.Printf("inspector afterwards: %d items kept, %.1f MiB of its %d MiB cap; %d connections where the parser fell behind and stopped\n",
		st.Items, float64(st.Bytes)/(1<<20), inspect.DefaultMaxBytes>>20, st.FellBehind)
	return nil
}
