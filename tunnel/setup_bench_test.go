package tunnel

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkSetup times visitor setups through an in-process server and
// client on loopback: connect, one byte each way, close. Run it with
// -cpuprofile to see where a setup's CPU goes.
func BenchmarkSetup(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv, _ := NewServer(ServerConfig{BindTunnels: "127.0.0.1"})
	srvDone := make(chan struct{})
	go func() { defer close(srvDone); srv.Serve(ctx, ln) }()
	echoLn, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() {
		for {
			c, err := echoLn.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	tun, _ := NewTunnel(ClientConfig{Server: "127.0.0.1", ControlPort: portOf(ln.Addr()), LocalHost: "127.0.0.1", LocalPort: portOf(echoLn.Addr())})
	runDone := make(chan struct{})
	go func() { defer close(runDone); tun.Run(ctx) }()
	for tun.Status().State != StateOpen {
		time.Sleep(time.Millisecond)
	}
	addr := joinHostPort("127.0.0.1", tun.Status().RemotePort)
	buf := make([]byte, 1)
	b.ResetTimer()
	for range b.N {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c.Write([]byte{'x'})
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.StopTimer()
	cancel()
	echoLn.Close()
	<-runDone
	<-srvDone
}
