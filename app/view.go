package app

import "github.com/boretray/bore/assets"

// View is everything the tray shows, as plain data: the shell draws it and
// makes no decisions of its own.
type View struct {
	// Icon is the tray icon's state.
	Icon    assets.Kind
	Tooltip string
	Title   string
	Menu    []MenuEntry
}

// MenuEntry is one menu item, a separator, or a submenu (when Children is
// not empty).
type MenuEntry struct {
	// ID is stable across renders for the same logical item, unique within
	// the whole menu; the shell keys its items by it.
	ID string
	// Label is the text shown.
	Label string
	// Enabled entries can be clicked.
	Enabled bool
	// Checkable entries show a check box; Checked is its state.
	Checkable bool
	Checked   bool
	// Children make the entry a submenu.
	Children []MenuEntry
	// Intent is handed to Update when the entry is clicked.
	Intent Intent
	// Separator makes the entry a separator line; only ID is used then.
	Separator bool
}

// Find returns the entry with the given ID anywhere in the tree.
func (v View) Find(id string) (MenuEntry, bool) {
	return findEntry(v.Menu, id)
}

func findEntry(entries []MenuEntry, id string) (MenuEntry, bool) {
	for _, e := range entries {
		if e.ID == id {
			return e, true
		}
		if c, ok := findEntry(e.Children, id); ok {
			return c, true
		}
	}
	return MenuEntry{}, false
}
