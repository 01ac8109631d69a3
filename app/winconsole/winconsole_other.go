//go:build !windows

package winconsole

// Attach does nothing outside Windows: programs there always keep the
// terminal they were started from.
func Attach() {}
