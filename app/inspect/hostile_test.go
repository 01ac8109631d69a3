package inspect

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heapWatch samples the heap while a test runs and reports its peak
// above the level when it started.
type heapWatch struct {
	base uint64
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func watchHeap() *heapWatch {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w := &heapWatch{base: m.HeapInuse, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > w.peak.Load() {
				w.peak.Store(m.HeapInuse)
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// growth stops the watch and returns the peak growth in MiB.
func (w *heapWatch) growth() float64 {
	close(w.stop)
	<-w.done
	p := w.peak.Load()
	if p < w.base {
		return 0
	}
	return float64(p-w.base) / (1 << 20)
}

// sinkOrOK is a local service for hostile traffic: "GET /ok" gets a
// short HTTP answer; anything else is read to its end and answered with
// the number of bytes read.
func sinkOrOK(c net.Conn) {
	br := bufio.NewReaderSize(c, 64<<10)
	if b, _ := br.Peek(8); string(b) == "GET /ok " {
		if _, err := http.ReadRequest(br); err == nil {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		}
		return
	}
	n, _ := io.Copy(io.Discard, br)
	io.WriteString(c, strconv.FormatInt(n, 10))
}

// checkOK sends GET /ok through public and wants the service's answer.
func checkOK(t *testing.T, public string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get("http://" + public + "/ok")
	if err != nil {
		t.Fatalf("the tunnel stopped working: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("the tunnel stopped working: %q", b)
	}
}

// stream writes head, then n bytes made by fill, then half-closes, and
// returns what the service answered.
func stream(t *testing.T, public string, head string, n int64, fill func([]byte)) string {
	t.Helper()
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, 256<<10)
		fill(buf)
		if _, err := io.WriteString(c, head); err != nil {
			errc <- err
			return
		}
		for left := n; left > 0; {
			k := min(left, int64(len(buf)))
			if _, err := c.Write(buf[:k]); err != nil {
				errc <- err
				return
			}
			left -= k
		}
		errc <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if werr := <-errc; werr != nil {
		t.Fatalf("sending: %v", werr)
	}
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return string(got)
}

// hugeSize is the length of the hostile streams: 1 GiB, less in -short.
func hugeSize() int64 {
	if testing.Short() {
		return 64 << 20
	}
	return 1 << 30
}

func TestHugeHeaderLine(t *testing.T) {
	addr := rawService(t, sinkOrOK)
	in := newInspector(t, addr, Options{})
	public := startTunnel(t, addr, in)
	heap := watchHeap()
	head := "GET / HTTP/1.1\r\nHost: x\r\nX-Long: "
	n := hugeSize()
	got := stream(t, public, head, n, func(b []byte) {
		for i := range b {
			b[i] = 'a'
		}
	})
	grew := heap.growth()
	if want := strconv.FormatInt(int64(len(head))+n, 10); got != want {
		t.Fatalf("the service got %s bytes, want %s", got, want)
	}
	t.Logf("%d MiB header line: heap peak +%.1f MiB", n>>20, grew)
	if grew > 48 {
		t.Errorf("heap grew by %.1f MiB while streaming a huge header line", grew)
	}
	waitFor(t, "the connection line", 10*time.Second, func() bool {
		s := find(in, func(s summary) bool { return s.Kind == kindConn && s.State == stateClosed })
		// Stopped at the head limit, or earlier if the parser fell behind.
		return len(s) == 1 && (strings.Contains(s[0].Note, "headers longer than") || strings.Contains(s[0].Note, "fell behind")) &&
			s[0].ReqSize == int64(len(head))+n
	})
	checkOK(t, public)
	waitFor(t, "the next request inspected", 10*time.Second, func() bool {
		return len(find(in, func(s summary) bool { return s.Path == "/ok" && s.State == stateDone })) == 1
	})
}

func TestBodyThatNeverEnds(t *testing.T) {
	addr := rawService(t, sinkOrOK)
	in := newInspector(t, addr, Options{})
	public := startTunnel(t, addr, in)
	heap := watchHeap()
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n")
	chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 32<<10, bytes.Repeat([]byte{0xfe}, 32<<10)))
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.Write(chunk); err != nil {
				return
			}
			sent.Add(int64(len(chunk)))
		}
	}()
	// While it streams, the upload is listed (as pending, or as not
	// followed when the parser fell behind) and other visitors get
	// through, inspected.
	waitFor(t, "the upload listed", 30*time.Second, func() bool {
		return len(find(in, func(s summary) bool {
			return s.Path == "/upload" && (s.State == statePending || s.State == stateStopped) ||
				s.Kind == kindConn && strings.Contains(s.Note, "fell behind")
		})) == 1
	})
	checkOK(t, public)
	waitFor(t, "a stream of "+strconv.Itoa(int(hugeSize()>>20))+" MiB", 5*time.Minute, func() bool { return sent.Load() >= hugeSize() })
	checkOK(t, public)
	close(stop)
	wg.Wait()
	c.(*net.TCPConn).CloseWrite()
	got, _ := io.ReadAll(c)
	c.Close()
	grew := heap.growth()
	t.Logf("%d MiB of body: heap peak +%.1f MiB", sent.Load()>>20, grew)
	if grew > 48 {
		t.Errorf("heap grew by %.1f MiB during an endless body", grew)
	}
	if n, _ := strconv.ParseInt(string(got), 10, 64); n < sent.Load() {
		t.Errorf("the service got %s bytes, want at least %d", got, sent.Load())
	}
	waitFor(t, "the upload's end", 10*time.Second, func() bool {
		s := find(in, func(s summary) bool { return s.Path == "/upload" })
		if len(s) == 0 {
			return true // the parser fell behind before the head
		}
		if s[0].State != stateNoResp {
			return false
		}
		d, _ := in.store.get(s[0].ID)
		return d.Req.Body.Kept <= DefaultBodyCap && !d.Req.Body.Complete
	})
	waitFor(t, "the other visitors inspected", 10*time.Second, func() bool {
		return len(find(in, func(s summary) bool { return s.Path == "/ok" && s.State == stateDone })) == 2
	})
	if st := in.Stats(); st.Bytes > DefaultMaxBytes {
		t.Errorf("the inspector holds %d bytes, over its cap", st.Bytes)
	}
}

// pipelineService answers every request head it reads (requests without
// bodies) with the same short response.
const pipelineResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

func pipelineService(c net.Conn) {
	bw := bufio.NewWriterSize(c, 64<<10)
	buf := make([]byte, 64<<10)
	var tail []byte
	for {
		n, err := c.Read(buf)
		data := append(tail, buf[:n]...)
		k := bytes.Count(data, []byte("\r\n\r\n"))
		for range k {
			bw.WriteString(pipelineResponse)
		}
		if i := bytes.LastIndex(data, []byte("\r\n\r\n")); i >= 0 {
			data = data[i+4:]
		}
		tail = append([]byte(nil), data[max(0, len(data)-3):]...)
		if bw.Flush() != nil || err != nil {
			return
		}
	}
}

func TestHundredThousandPipelinedRequests(t *testing.T) {
	addr := rawService(t, pipelineService)
	in := newInspector(t, addr, Options{})
	public := startTunnel(t, addr, in)
	const n = 100_000
	heap := watchHeap()
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		bw := bufio.NewWriter(c)
		for i := range n {
			fmt.Fprintf(bw, "GET /p/%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		}
		bw.Flush()
	}()
	want := int64(n * len(pipelineResponse))
	var got bytes.Buffer
	r := io.LimitReader(c, want)
	buf := make([]byte, 64<<10)
	var total int64
	for {
		k, err := r.Read(buf)
		// Check the stream as it comes instead of keeping it.
		got.Write(buf[:k])
		for got.Len() >= len(pipelineResponse) {
			if !bytes.Equal(got.Next(len(pipelineResponse)), []byte(pipelineResponse)) {
				t.Fatal("a response came back changed")
			}
			total++
		}
		if err != nil {
			break
		}
	}
	grew := heap.growth()
	if total != n {
		t.Fatalf("%d responses, want %d", total, n)
	}
	st := in.Stats()
	t.Logf("%d pipelined requests: %d items kept (%d KiB), heap peak +%.1f MiB", n, st.Items, st.Bytes>>10, grew)
	if st.Items > DefaultMaxItems || st.Bytes > DefaultMaxBytes {
		t.Errorf("the inspector keeps %d items, %d bytes: over its caps", st.Items, st.Bytes)
	}
	if grew > 64 {
		t.Errorf("heap grew by %.1f MiB", grew)
	}
	c.Close()
	checkPipelineStillWorks(t, public)
}

func checkPipelineStillWorks(t *testing.T, public string) {
	t.Helper()
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
	b := make([]byte, len(pipelineResponse))
	if _, err := io.ReadFull(c, b); err != nil || string(b) != pipelineResponse {
		t.Fatalf("after the flood: %q %v", b, err)
	}
}

// TestMemoryStaysWithinTheCap runs 10 000 exchanges with bodies through
// an inspected tunnel and checks that the inspector keeps no more than
// its caps, and the heap shows it.
func TestMemoryStaysWithinTheCap(t *testing.T) {
	mux := http.NewServeMux()
	page := bytes.Repeat([]byte("0123456789abcdef"), 512) // 8 KiB
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Write(page)
	})
	svc := &http.Server{Handler: mux}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go svc.Serve(ln)
	defer svc.Close()
	const maxBytes = 8 << 20
	in := newInspector(t, ln.Addr().String(), Options{MaxBytes: maxBytes})
	public := startTunnel(t, ln.Addr().String(), in)
	heap := watchHeap()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	body := strings.Repeat("x", 4<<10)
	var wg sync.WaitGroup
	var fails atomic.Int64
	const total, workers = 10_000, 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range total / workers {
				res, err := client.Post(fmt.Sprintf("http://%s/w%d/%d", public, w, i), "text/plain", strings.NewReader(body))
				if err != nil {
					fails.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	if fails.Load() > 0 {
		t.Fatalf("%d requests failed", fails.Load())
	}
	waitFor(t, "the last exchanges", 10*time.Second, func() bool {
		return len(find(in, func(s summary) bool { return s.State == statePending })) == 0
	})
	runtime.GC()
	grew := heap.growth()
	st := in.Stats()
	t.Logf("%d exchanges: %d items kept, %.1f MiB of %d MiB, heap peak +%.1f MiB", total, st.Items, float64(st.Bytes)/(1<<20), maxBytes>>20, grew)
	if st.Bytes > maxBytes || st.Items > DefaultMaxItems {
		t.Errorf("the inspector keeps %d items, %d bytes: over its caps", st.Items, st.Bytes)
	}
	if st.Items < 100 {
		t.Errorf("only %d items kept: the cap should hold a few hundred of these", st.Items)
	}
	if grew > float64(maxBytes>>20)+40 {
		t.Errorf("heap grew by %.1f MiB with a cap of %d MiB", grew, maxBytes>>20)
	}
}
