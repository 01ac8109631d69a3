// Package tray is the system tray shell of the Bore app: it draws the View
// that package app renders with fyne.io/systray and turns clicks back into
// app.Intents. It makes no decisions of its own. It is the only package that
// imports systray, whose state is process-global: one tray per process.
package tray

import (
	"sync"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/assets"
)

// Shell implements app.Renderer on the systray: it keeps one systray item
// per menu entry, keyed by MenuEntry.ID, and updates items in place.
//
// fyne menus can only append, so when the entries under one parent change
// order or kind, the items from the first difference on are removed and
// recreated in order. Separators cannot be removed one by one; when one is
// in the way the whole menu is rebuilt (systray.ResetMenu). The menu is laid
// out so this only happens when a tunnel appears or goes away.
type Shell struct {
	tray    backend
	icons   func(assets.Kind) []byte
	intents chan app.Intent
	done    chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	root    []*node
	drawn   bool
	icon    assets.Kind
	tooltip string
	title   string
	closed  bool
}

// node is one systray item (or separator) and the entry last drawn in it.
type node struct {
	entry    app.MenuEntry // Children is not kept here
	item     menuItem
	children []*node
}

// NewShell returns a Shell that takes icon images from icons. Render must
// only be called once systray is ready; call Close when done.
func NewShell(icons func(assets.Kind) []byte) *Shell {
	return newShell(systrayBackend{}, icons)
}

func newShell(tray backend, icons func(assets.Kind) []byte) *Shell {
	return &Shell{tray: tray, icons: icons, intents: make(chan app.Intent), done: make(chan struct{})}
}

// Intents receives the Intent of every item clicked.
func (s *Shell) Intents() <-chan app.Intent { return s.intents }

// Close stops delivering clicks and waits for the click receivers to end.
func (s *Shell) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Render draws v, changing only what differs from the last View drawn.
func (s *Shell) Render(v app.View) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if !s.drawn || v.Icon != s.icon {
		if img := s.icons(v.Icon); img != nil {
			s.tray.SetIcon(img)
		}
		s.icon = v.Icon
	}
	if !s.drawn || v.Tooltip != s.tooltip {
		s.tray.SetTooltip(v.Tooltip)
		s.tooltip = v.Tooltip
	}
	if !s.drawn || v.Title != s.title {
		s.tray.SetTitle(v.Title)
		s.title = v.Title
	}
	s.drawn = true
	nodes, ok := s.sync(nil, s.root, v.Menu)
	if !ok {
		// A separator stood in the way of a change: start over.
		s.tray.ResetMenu()
		nodes, _ = s.sync(nil, nil, v.Menu)
	}
	s.root = nodes
}

// sameShape reports whether entry e can be drawn in n's item: a fyne item
// cannot change between separator, check box, plain item and submenu.
func sameShape(n *node, e app.MenuEntry) bool {
	return n.entry.ID == e.ID && n.entry.Separator == e.Separator &&
		n.entry.Checkable == e.Checkable && (len(n.children) > 0) == (len(e.Children) > 0)
}

// sync makes the items under parent (nil: the top level) show want, given
// the nodes have drawn there now. It returns the new nodes, or false when a
// separator prevents the change at this level.
func (s *Shell) sync(parent *node, have []*node, want []app.MenuEntry) ([]*node, bool) {
	k := 0
	for ; k < len(have) && k < len(want); k++ {
		n, e := have[k], want[k]
		if !sameShape(n, e) {
			break
		}
		if len(e.Children) > 0 {
			children, ok := s.sync(n, n.children, e.Children)
			if !ok {
				break
			}
			n.children = children
		}
		s.update(n, e)
	}
	if k == len(have) && k == len(want) {
		return have, true
	}
	for _, n := range have[k:] {
		if n.entry.Separator {
			return have, false
		}
	}
	for _, n := range have[k:] {
		n.item.Remove() // also removes its children and ends its receiver
	}
	out := have[:k:k]
	for _, e := range want[k:] {
		out = append(out, s.create(parent, e))
	}
	return out, true
}

// update changes n's item in place to show e.
func (s *Shell) update(n *node, e app.MenuEntry) {
	e.Children = nil
	if n.entry.Separator {
		n.entry = e
		return
	}
	if e.Label != n.entry.Label {
		n.item.SetTitle(e.Label)
	}
	if e.Enabled != n.entry.Enabled {
		if e.Enabled {
			n.item.Enable()
		} else {
			n.item.Disable()
		}
	}
	if e.Checkable && e.Checked != n.entry.Checked {
		if e.Checked {
			n.item.Check()
		} else {
			n.item.Uncheck()
		}
	}
	n.entry = e
}

// create appends a new item for e (and its children) under parent.
func (s *Shell) create(parent *node, e app.MenuEntry) *node {
	children := e.Children
	e.Children = nil
	n := &node{entry: e}
	if e.Separator {
		if parent == nil {
			s.tray.AddSeparator()
		} else {
			parent.item.AddSeparator()
		}
		return n
	}
	switch {
	case parent == nil && e.Checkable:
		n.item = s.tray.AddMenuItemCheckbox(e.Label, "", e.Checked)
	case parent == nil:
		n.item = s.tray.AddMenuItem(e.Label, "")
	case e.Checkable:
		n.item = parent.item.AddSubMenuItemCheckbox(e.Label, "", e.Checked)
	default:
		n.item = parent.item.AddSubMenuItem(e.Label, "")
	}
	if !e.Enabled {
		n.item.Disable()
	}
	for _, c := range children {
		n.children = append(n.children, s.create(n, c))
	}
	if len(children) == 0 {
		s.wg.Add(1)
		go s.receive(n, n.item.Clicked())
	}
	return n
}

// receive forwards the clicks of one item for the item's whole life: fyne
// drops a click when nobody is receiving. It ends when the item is removed
// (its channel is closed) or the shell is closed.
func (s *Shell) receive(n *node, clicked <-chan struct{}) {
	defer s.wg.Done()
	for {
		select {
		case _, ok := <-clicked:
			if !ok {
				return
			}
		case <-s.done:
			return
		}
		s.mu.Lock()
		in := n.entry.Intent
		s.mu.Unlock()
		if in.Kind == app.IntentNone {
			continue
		}
		select {
		case s.intents <- in:
		case <-s.done:
			return
		}
	}
}
