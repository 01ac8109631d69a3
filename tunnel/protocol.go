package tunnel

// DefaultControlPort is bore's control port, fixed in every upstream
// version; ours can be changed with --control-port.
const DefaultControlPort = 7835
