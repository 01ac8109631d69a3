//go:build !linux

package tray

// watchPanels does nothing where the tray does not speak dbusmenu.
func (s *Shell) watchPanels() {}
