package tray

import "fyne.io/systray"

// Run runs the systray event loop, calling onReady once the tray is up; it
// returns after Quit. It must be called from the main goroutine on macOS.
func Run(onReady func()) { systray.Run(onReady, nil) }

// Quit ends the systray event loop.
func Quit() { systray.Quit() }

// backend is what Shell needs of the systray library: its package
// functions. Tests use a fake; systrayBackend is the real one.
type backend interface {
	SetIcon(img []byte)
	SetTooltip(s string)
	SetTitle(s string)
	ResetMenu()
	AddSeparator()
	AddMenuItem(title, tooltip string) menuItem
	AddMenuItemCheckbox(title, tooltip string, checked bool) menuItem
}

// menuItem is what Shell needs of a *systray.MenuItem.
type menuItem interface {
	SetTitle(s string)
	Enable()
	Disable()
	Check()
	Uncheck()
	Hide()
	Show()
	// Remove removes the item and its children and closes Clicked.
	Remove()
	AddSeparator()
	AddSubMenuItem(title, tooltip string) menuItem
	AddSubMenuItemCheckbox(title, tooltip string, checked bool) menuItem
	// Clicked receives a value for each click.
	Clicked() <-chan struct{}
	// String describes the item; systray's starts with
	// "MenuItem[<dbusmenu ID>,".
	String() string
}

// systrayBackend is the systray package as a backend.
type systrayBackend struct{}

func (systrayBackend) SetIcon(img []byte)  { systray.SetIcon(img) }
func (systrayBackend) SetTooltip(s string) { systray.SetTooltip(s) }
func (systrayBackend) SetTitle(s string)   { systray.SetTitle(s) }
func (systrayBackend) ResetMenu()          { systray.ResetMenu() }
func (systrayBackend) AddSeparator()       { systray.AddSeparator() }

func (systrayBackend) AddMenuItem(title, tooltip string) menuItem {
	return systrayItem{systray.AddMenuItem(title, tooltip)}
}

func (systrayBackend) AddMenuItemCheckbox(title, tooltip string, checked bool) menuItem {
	return systrayItem{systray.AddMenuItemCheckbox(title, tooltip, checked)}
}

// systrayItem is a *systray.MenuItem as a menuItem.
type systrayItem struct{ *systray.MenuItem }

func (i systrayItem) AddSubMenuItem(title, tooltip string) menuItem {
	return systrayItem{i.MenuItem.AddSubMenuItem(title, tooltip)}
}

func (i systrayItem) AddSubMenuItemCheckbox(title, tooltip string, checked bool) menuItem {
	return systrayItem{i.MenuItem.AddSubMenuItemCheckbox(title, tooltip, checked)}
}

func (i systrayItem) Clicked() <-chan struct{} { return i.ClickedCh }
