// Package tray is the system tray shell of the Bore app: it draws the View
// that package app renders with fyne.io/systray and turns clicks back into
// app.Intents. It makes no decisions of its own. It is the only package that
// imports systray, whose state is process-global: one tray per process.
package tray

import (
	"fmt"
	"sync"
	"time"

	"github.com/boretray/bore/app"
	"github.com/boretray/bore/assets"
)

// Shell implements app.Renderer on the systray: it keeps one systray item
// per menu entry and updates items in place.
//
// Panels built on libdbusmenu (xfce4-panel, MATE, Cinnamon, GNOME's
// AppIndicator extension) keep their own copy of the menu, and three things
// empty their submenus for good:
//   - a submenu item realized after its children: libdbusmenu-gtk drops
//     the children ("Children but no menu");
//   - a submenu whose last child goes away: its menu is destroyed and never
//     rebuilt, since children-display does not change;
//   - children-display going away and coming back (an outdated property
//     answer): the item gets a new, empty menu.
//
// fyne.io/systray answers each D-Bus call in its own goroutine, so a
// panel's property requests come back in any order, and an answer read
// before a change can arrive after the change's signal. So the shell:
//   - reuses items by position where the shape fits, and hides items
//     rather than removing them, so no submenu ever loses its last child;
//   - turns existing items into submenus, and gives a new submenu item its
//     children childDelay later, once the panel has realized it;
//   - sends changed items' state again once changes settle (recheck), and
//     draws the children of a new submenu again after that (regrow);
//   - when a panel starts reading the menu (watchPanels), draws every
//     submenu's children again once that first reading is done (renew);
//   - keeps hidden spare items before every separator, so a tunnel
//     appearing above one reuses a spare: fyne menus only append, and a
//     separator cannot be removed except by rebuilding the whole menu
//     (s.tray.ResetMenu), which is left for when the spares run out.
//
// Where the menu is native (Windows, macOS: dbusMenu is false) none of that
// is needed, and on Windows some of it shows: fyne hides a Windows item by
// taking it out of the menu, and any later change to it (a recheck) puts it
// back. So there the shell makes no spares (initialSpares), a new submenu
// gets its children at once, nothing is sent again, and a hidden item gets
// no change until it is shown again.
type Shell struct {
	tray    backend
	panels  bool // watch the session bus for panels reading the menu
	icons   func(assets.Kind) []byte
	intents chan app.Intent
	done    chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	root    []*node
	drawn   bool
	first   bool // drawing the first menu
	icon    assets.Kind
	tooltip string
	title   string
	closed  bool
	spares  int // hidden spare items made before each separator
	// dbus is set when panels read the menu over D-Bus (dbusMenu): new
	// submenus get their children late, and changes are sent again.
	dbus  bool
	timer *time.Timer     // adds the children of new submenus
	menu  []app.MenuEntry // the menu last drawn
	// watching is set when watchPanels sees the panels' requests: a new
	// submenu then gets its children as soon as a panel has asked for the
	// submenu's own properties (waiting, by dbusmenu ID).
	watching bool
	waiting  map[int32]*node
	// touched items changed lately; recheck sends their state again.
	touched map[*node]bool
	recheck *time.Timer
	// grown items became submenus lately; regrow draws their children
	// again once recheck has run.
	grown  map[*node]bool
	regrow *time.Timer
}

// childDelay is how long a new submenu item stays without children, for the
// panel to fetch and realize it first, when the shell cannot see the
// panels' requests. Panels fetch the layout within milliseconds of the
// change signal.
const childDelay = time.Second

// watchedChildDelay is how long a new submenu waits for a panel to ask for
// its properties before it gets its children anyway (a panel that reads
// the menu differently, or none running).
const watchedChildDelay = 5 * time.Second

// readyDelay is how long after a panel asked for a new submenu's
// properties it gets its children: time for the answer to arrive first.
const readyDelay = 100 * time.Millisecond

// recheckDelay is how long after a change the shell sends the changed
// items' state again. fyne answers a panel's property request in a
// goroutine of its own, so an answer read just before a change can reach
// the panel after the change's signal and undo it there; sending the state
// again once things are quiet puts it right.
const recheckDelay = 300 * time.Millisecond

// regrowDelay is how long after an item became a submenu the shell draws
// its children again. When a panel's answer from before the change undid
// the item's children-display, the recheck that restores it makes
// libdbusmenu-gtk give the item a new, empty menu; children drawn after
// that fill it.
const regrowDelay = recheckDelay + 300*time.Millisecond

// lateRegrowDelay is when the children are drawn again, up to maxRegrows
// times in all.
const lateRegrowDelay = 2 * time.Second

// maxRegrows is how many times regrow draws a new submenu's children.
const maxRegrows = 2

// node is one systray item (or separator) and the entry last drawn in it.
type node struct {
	entry    app.MenuEntry // Children is not kept here
	item     menuItem
	children []*node
	hidden   bool
	// submenu is set once the item has (or had) children: libdbusmenu then
	// shows it as a submenu for good, so it never draws a plain entry again.
	submenu bool
	// pending holds the children of a new submenu until childDelay passes.
	pending   []app.MenuEntry
	isPending bool
	since     time.Time // when it became pending
	ready     bool      // a panel has asked for its properties
	id        int32     // its dbusmenu ID
	regrown   int       // how many times regrow drew its children again
	// retired items are hidden for good: a panel that started reading the
	// menu later may hold them without their children.
	retired bool
}

// NewShell returns a Shell that takes icon images from icons. Render must
// only be called once systray is ready; call Close when done.
func NewShell(icons func(assets.Kind) []byte) *Shell {
	s := newShell(systrayBackend{}, icons)
	s.panels = true
	return s
}

// newShell returns a Shell drawing through tray. It does not watch the
// session bus: that is for the real systray only.
func newShell(tray backend, icons func(assets.Kind) []byte) *Shell {
	return &Shell{tray: tray, icons: icons, intents: make(chan app.Intent), done: make(chan struct{}),
		spares: initialSpares, dbus: dbusMenu}
}

// Intents receives the Intent of every item clicked.
func (s *Shell) Intents() <-chan app.Intent { return s.intents }

// Close stops delivering clicks and waits for the click receivers to end.
func (s *Shell) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
		if s.timer != nil {
			s.timer.Stop()
		}
		if s.recheck != nil {
			s.recheck.Stop()
		}
		if s.regrow != nil {
			s.regrow.Stop()
		}
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
	// The first menu is drawn whole: no panel has seen any of it yet, and
	// fyne serves a panel's first layout one level deep, then the rest.
	s.first = !s.drawn
	if s.first && s.panels {
		s.watchPanels()
	}
	s.drawn = true
	s.menu = v.Menu
	defer s.scheduleRecheck()
	nodes, ok := s.sync(nil, s.root, v.Menu)
	if !ok {
		// A separator stood in the way of a change: start over, with
		// more spares if there were any (with none, the next new row
		// rebuilds again). New items have no separator in the way, so
		// this second sync cannot fail.
		s.tray.ResetMenu()
		// The old items are gone: updating one again would add it
		// back (fyne adds an item it does not find).
		s.touched, s.grown, s.waiting = nil, nil, nil
		s.spares *= 2
		nodes, _ = s.sync(nil, nil, v.Menu)
	}
	s.root = nodes
}

// fits reports whether entry e can be drawn in n's item: a fyne item cannot
// change between separator, check box and plain item, and an item that had
// children stays a submenu.
func fits(n *node, e app.MenuEntry) bool {
	if n.retired {
		return false
	}
	if n.entry.Separator || e.Separator {
		return n.entry.Separator && e.Separator
	}
	return n.entry.Checkable == e.Checkable && (len(e.Children) > 0 || !n.submenu)
}

// match returns the index of the node in have[i:] to draw e in, or -1: the
// node at i if it fits, else the first hidden node that fits, else the
// first that fits. Reusing by position keeps the items a level uses to
// the most it shows at once. It never looks past a separator, which cannot
// be hidden.
func match(have []*node, i int, e app.MenuEntry) int {
	if i < len(have) && fits(have[i], e) {
		return i
	}
	for pass := 0; pass < 2; pass++ {
		for k := i; k < len(have); k++ {
			n := have[k]
			if fits(n, e) && (pass == 1 || n.hidden) {
				return k
			}
			if n.entry.Separator {
				break
			}
		}
	}
	return -1
}

// sync makes the items under parent (nil: the top level) show want, given
// the nodes drawn there now. It returns the new nodes, or false when a
// separator prevents the change: fyne cannot insert before one.
func (s *Shell) sync(parent *node, have []*node, want []app.MenuEntry) ([]*node, bool) {
	var out []*node
	i, w := 0, 0
	for ; w < len(want); w++ {
		k := match(have, i, want[w])
		if k < 0 {
			break
		}
		for _, n := range have[i:k] {
			s.hide(n)
		}
		if !s.use(have[k], want[w]) {
			return have, false
		}
		out = append(out, have[i:k+1]...)
		i = k + 1
	}
	rest := have[i:]
	for _, n := range rest {
		if n.entry.Separator {
			return have, false
		}
	}
	for _, n := range rest {
		s.hide(n)
	}
	out = append(out, rest...)
	for _, e := range want[w:] {
		if e.Separator {
			for range s.spares {
				out = append(out, s.spare(parent))
			}
		}
		out = append(out, s.create(parent, e))
	}
	return out, true
}

// hide hides n's item; it stays for reuse.
func (s *Shell) hide(n *node) {
	if !n.hidden && !n.entry.Separator {
		n.item.Hide()
		n.hidden = true
		s.touch(n)
	}
}

// touch notes that n's item changed, for recheck to send its state again.
// Only panels reading over D-Bus need that: a native menu shows every
// change as made, and on Windows sending a hidden item's state would show
// it again.
func (s *Shell) touch(n *node) {
	if n.item == nil || !s.dbus {
		return
	}
	if s.touched == nil {
		s.touched = map[*node]bool{}
	}
	s.touched[n] = true
}

// grew notes that n's item just became a submenu, for regrow to draw its
// children again (where panels read the menu over D-Bus).
func (s *Shell) grew(n *node) {
	if !s.dbus {
		return
	}
	if s.grown == nil {
		s.grown = map[*node]bool{}
	}
	s.grown[n] = true
	if s.regrow == nil {
		s.regrow = time.AfterFunc(regrowDelay, s.regrowChildren)
	} else {
		s.regrow.Reset(regrowDelay)
	}
}

// regrowChildren draws the children of the items that became submenus
// again, as new items.
func (s *Shell) regrowChildren() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	grown := s.grown
	s.grown = nil
	var again []*node
	for n := range grown {
		if !n.retired && n.submenu && !n.isPending {
			// Its state first (children-display among it), then the new
			// children: the panel handles the signals in this order.
			n.item.SetTitle(n.entry.Label)
			n.children = s.renewLevel(n, n.children)
			// Once more a while later, for a panel slow enough to get
			// the outdated answer after the first time.
			if n.regrown++; n.regrown < maxRegrows {
				again = append(again, n)
			}
		}
	}
	if len(again) > 0 {
		if s.grown == nil {
			s.grown = map[*node]bool{}
		}
		for _, n := range again {
			s.grown[n] = true
		}
		s.regrow.Reset(lateRegrowDelay)
	}
	s.scheduleRecheck()
}

// scheduleRecheck sends the touched items' state again recheckDelay after
// the last change.
func (s *Shell) scheduleRecheck() {
	if len(s.touched) == 0 {
		return
	}
	if s.recheck == nil {
		s.recheck = time.AfterFunc(recheckDelay, s.resend)
	} else {
		s.recheck.Reset(recheckDelay)
	}
}

// resend sends the state of every touched item again (fyne sends all of an
// item's properties on any update).
func (s *Shell) resend() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for n := range s.touched {
		n.item.SetTitle(n.entry.Label)
	}
	s.touched = nil
}

// use draws e in n's item, which fits it. It returns false when a
// separator prevents a change below.
func (s *Shell) use(n *node, e app.MenuEntry) bool {
	children := e.Children
	e.Children = nil
	if n.entry.Separator {
		n.entry = e
		return true
	}
	old := n.entry
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
	if n.hidden {
		n.item.Show()
		n.hidden = false
		s.touch(n)
	}
	if old.Label != e.Label || old.Enabled != e.Enabled || old.Checked != e.Checked {
		s.touch(n)
	}
	switch {
	case len(children) == 0:
	case n.isPending:
		n.pending = children
	default:
		// The panel knows this item already: it sees it become a submenu
		// (children-display) before it sees the children.
		nodes, ok := s.sync(n, n.children, children)
		if !ok {
			return false
		}
		n.children = nodes
		if !n.submenu {
			n.submenu = true
			s.grew(n)
		}
	}
	return true
}

// spare appends a hidden plain item under parent, for a later entry to use.
func (s *Shell) spare(parent *node) *node {
	n := s.create(parent, app.MenuEntry{})
	s.hide(n)
	return n
}

// create appends a new item for e under parent. The children of a new
// submenu come childDelay later where panels read the menu over D-Bus.
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
	s.touch(n)
	if len(children) > 0 && (!s.dbus || s.first && parent == nil) {
		// fyne serves a panel's first layout one level deep and the rest
		// a moment later, so the top level's submenus come first. A
		// native menu has no panel to wait for.
		for _, c := range children {
			n.children = append(n.children, s.create(n, c))
		}
		n.submenu = true
	} else if len(children) > 0 {
		n.pending, n.isPending, n.since = children, true, time.Now()
		n.id = itemID(n.item)
		if s.waiting == nil {
			s.waiting = map[int32]*node{}
		}
		s.waiting[n.id] = n
		s.armPending(s.pendingDelay())
	}
	s.wg.Add(1)
	go s.receive(n, n.item.Clicked())
	return n
}

// renew is called when a panel has started reading the menu, childDelay
// after its first request. Such a panel gets the whole menu at once, and
// may have dropped the children of any submenu it realized after them (see
// Shell). So the items under each top-level submenu are retired and drawn
// again as new ones, which the panel realizes after their submenu; new
// submenus among them get their children childDelay later again.
func (s *Shell) renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.drawn {
		return
	}
	for _, t := range s.root {
		if !t.hidden && t.submenu && !t.isPending {
			t.children = s.renewLevel(t, t.children)
		}
	}
	s.scheduleRecheck()
}

// renewLevel retires level's items and appends new ones for what they
// showed. The retired items stay, hidden, so the submenu is never empty.
func (s *Shell) renewLevel(parent *node, level []*node) []*node {
	var again []app.MenuEntry
	for _, n := range level {
		if n.retired {
			continue
		}
		if !n.hidden {
			again = append(again, n.shown())
		}
		s.hide(n)
		n.retired = true
	}
	for _, e := range again {
		level = append(level, s.create(parent, e))
	}
	return level
}

// shown returns the entry n's item shows, with its children.
func (n *node) shown() app.MenuEntry {
	e := n.entry
	switch {
	case n.isPending:
		e.Children = n.pending
	case n.submenu:
		for _, c := range n.children {
			if !c.hidden {
				e.Children = append(e.Children, c.shown())
			}
		}
	}
	return e
}

// pendingDelay is how long a new submenu waits for its children at most.
func (s *Shell) pendingDelay() time.Duration {
	if s.watching {
		return watchedChildDelay
	}
	return childDelay
}

// armPending makes addPending run after d.
func (s *Shell) armPending(d time.Duration) {
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.addPending)
	} else {
		s.timer.Reset(d)
	}
}

// requested is told the dbusmenu IDs a panel asked properties for: the
// waiting submenus among them get their children shortly.
func (s *Shell) requested(ids []int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, id := range ids {
		if n := s.waiting[id]; n != nil {
			n.ready = true
			found = true
		}
	}
	if found && !s.closed {
		s.armPending(readyDelay)
	}
}

// itemID returns the dbusmenu ID fyne gave item, which it shows only in
// the item's String ("MenuItem[12, ...").
func itemID(item menuItem) int32 {
	var id int32
	if _, err := fmt.Sscanf(item.String(), "MenuItem[%d", &id); err != nil {
		return -1
	}
	return id
}

// addPending gives the new submenus that a panel has realized (or that
// waited long enough) their children.
func (s *Shell) addPending() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := time.Now()
	wait := s.pendingDelay()
	var next time.Duration
	var walk func(ns []*node)
	walk = func(ns []*node) {
		for _, n := range ns {
			if n.retired {
				continue
			}
			if n.isPending {
				left := wait - now.Sub(n.since)
				if !n.ready && left > 0 {
					if next == 0 || left < next {
						next = left
					}
					continue
				}
				n.isPending = false
				delete(s.waiting, n.id)
				// New items: no separator can be in the way.
				n.children, _ = s.sync(n, nil, n.pending)
				n.pending = nil
				n.submenu = true
				s.grew(n)
				continue
			}
			walk(n.children)
		}
	}
	walk(s.root)
	if next > 0 {
		s.armPending(next)
	}
	s.scheduleRecheck()
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
