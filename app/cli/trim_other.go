//go:build !linux

package cli

// dropCodePages does nothing outside Linux.
func dropCodePages() {}
