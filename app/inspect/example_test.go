package inspect_test

import (
	"context"
	"fmt"

	"github.com/boretray/bore/app/inspect"
	"github.com/boretray/bore/tunnel"
)

// Inspect one tunnel from its start: attach, run, close with it.
func ExampleAttach() {
	cfg := tunnel.ClientConfig{Server: "bore.pub", LocalPort: 3000}
	insp, err := inspect.Attach(&cfg, inspect.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer insp.Close()
	fmt.Println("open", insp.URL(), "in a browser")
	t, err := tunnel.NewTunnel(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	t.Run(context.Background())
}

// Turn inspection on and off while a tunnel runs, as a menu item would.
func ExampleSwitch() {
	var sw inspect.Switch
	cfg := tunnel.ClientConfig{Server: "bore.pub", LocalPort: 3000, WrapLocal: &sw}
	// ... start the tunnel with cfg, then on "Inspect traffic":
	insp, err := inspect.New(inspect.Options{Target: "localhost:3000", Title: "localhost:3000 → bore.pub:41234"})
	if err != nil {
		fmt.Println(err)
		return
	}
	sw.Set(insp)
	fmt.Println("open", insp.URL(), "in a browser")
	// ... and when it is turned off, or the tunnel stops:
	if old := sw.Set(nil); old != nil {
		old.Close()
	}
	_ = cfg
}
