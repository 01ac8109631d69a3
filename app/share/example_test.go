package share_test

import (
	"fmt"

	"github.com/boretray/bore/app/share"
	"github.com/boretray/bore/tunnel"
)

// Share a folder: the file server takes the tunnel's local side.
func ExampleAttach() {
	cfg := tunnel.ClientConfig{Server: "bore.pub"}
	srv, err := share.Attach(&cfg, "/home/ada/Public", share.Options{})
	if err != nil {
		fmt.Println(err) // e.g. "cannot share /home/ada/Public: no such folder"
		return
	}
	defer srv.Close() // when the tunnel stops
	// Start the tunnel with cfg (tunnel.Manager.Start or NewTunnel+Run);
	// once it is open its URL is http://<server>:<remote port>/.
}
