package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/boretray/bore/tunnel"
)

// fakePicker answers Pick from a queue; an empty queue cancels.
type fakePicker struct {
	mu      sync.Mutex
	tool    string
	answers []string
	asked   []string
}

func (p *fakePicker) Available() string { return p.tool }

func (p *fakePicker) Pick(ctx context.Context, folder bool, title string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, fmt.Sprintf("%s folder=%v", title, folder))
	if len(p.answers) == 0 {
		return "", fmt.Errorf("%w: closed", ErrCancelled)
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a, nil
}

// fakeFiles records the folders served and stopped.
type fakeFiles struct {
	mu      sync.Mutex
	err     error
	served  []string
	stopped []string
}

func (f *fakeFiles) Serve(path string) (uint16, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, nil, f.err
	}
	f.served = append(f.served, path)
	return 40001, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.stopped = append(f.stopped, path)
	}, nil
}

func (f *fakeFiles) get() (served, stopped []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.served), slices.Clone(f.stopped)
}

// fakeInspector records what the loop turns on and off.
type fakeInspector struct {
	mu  sync.Mutex
	err error
	log []string
}

func (i *fakeInspector) Inspect(id tunnel.TunnelID, target, title string) (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil {
		return "", i.err
	}
	i.log = append(i.log, fmt.Sprintf("on %d %s %s", id, target, title))
	return fmt.Sprintf("http://127.0.0.1:4567%d/?token=t", id), nil
}

func (i *fakeInspector) StopInspecting(id tunnel.TunnelID) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.log = append(i.log, fmt.Sprintf("off %d", id))
}

func (i *fakeInspector) get() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.log)
}

// Share a folder…: the picker's answer is served on loopback and
// tunnelled, the link is copied and announced, and Stop stops the file
// server; so does quitting.
func TestLoopSharesAFolder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		picker := &fakePicker{tool: "zenity", answers: []string{"/home/u/Photos", "/home/u/notes.txt"}}
		files := &fakeFiles{}
		h := start(t, func(c *Config) { c.Picker, c.Files = picker, files })
		h.click("share/folder")
		cfgs := h.eng.startedCfgs()
		if len(cfgs) != 1 || cfgs[0].LocalHost != "127.0.0.1" || cfgs[0].LocalPort != 40001 || cfgs[0].Server != "bore.pub" {
			t.Fatalf("engine started %+v, want one tunnel of 127.0.0.1:40001 through bore.pub", cfgs)
		}
		if served, _ := files.get(); !slices.Equal(served, []string{"/home/u/Photos"}) {
			t.Errorf("served %q", served)
		}
		st := shareTunnel(1, 40001, 41234)
		h.snap(st)
		if got, want := h.copied(), []string{"http://bore.pub:41234/"}; !slices.Equal(got, want) {
			t.Errorf("clipboard = %q, want %q", got, want)
		}
		if !hasNote(h.notes(), "Sharing Photos (read-only) at http://bore.pub:41234/ — link copied") {
			t.Errorf("notes = %v", h.notes())
		}
		if got := h.label("tunnel/1"); got != "Sharing Photos → bore.pub:41234" {
			t.Errorf("tunnel line = %q", got)
		}
		h.click("tunnel/1/stop")
		if got := h.eng.stoppedIDs(); !slices.Equal(got, []tunnel.TunnelID{1}) {
			t.Errorf("stopped %v", got)
		}
		if _, stopped := files.get(); !slices.Equal(stopped, []string{"/home/u/Photos"}) {
			t.Errorf("file servers stopped: %q", stopped)
		}
		h.snap()

		h.click("share/file")
		h.snap(shareTunnel(2, 40001, 41235))
		if got := h.label("tunnel/2"); got != "Sharing notes.txt → bore.pub:41235" {
			t.Errorf("tunnel line = %q", got)
		}
		h.stop()
		if _, stopped := files.get(); !slices.Equal(stopped, []string{"/home/u/Photos", "/home/u/notes.txt"}) {
			t.Errorf("file servers stopped at quit: %q", stopped)
		}
		if got := picker.asked; !slices.Equal(got, []string{"Share a folder folder=true", "Share a file folder=false"}) {
			t.Errorf("picker asked %q", got)
		}
	})
}

func TestLoopSharePickerCancelledOrMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		picker := &fakePicker{tool: "zenity"}
		files := &fakeFiles{}
		h := start(t, func(c *Config) { c.Picker, c.Files = picker, files })
		defer h.stop()
		before := len(h.notes())
		h.click("share/folder")
		if len(h.eng.startedCfgs()) != 0 || len(h.notes()) != before {
			t.Errorf("a cancelled picker started %v, notes %v", h.eng.startedCfgs(), h.notes()[before:])
		}
		picker.mu.Lock()
		picker.tool = ""
		picker.mu.Unlock()
		h.click("share/folder")
		if !hasNote(h.notes(), "install zenity") {
			t.Errorf("notes = %v, want one saying what to install", h.notes())
		}
	})
}

func TestLoopShareFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		picker := &fakePicker{tool: "zenity", answers: []string{"/gone", "/home/u/Photos"}}
		files := &fakeFiles{err: errors.New("cannot share /gone: no such folder")}
		h := start(t, func(c *Config) { c.Picker, c.Files = picker, files })
		defer h.stop()
		h.click("share/folder")
		if len(h.eng.startedCfgs()) != 0 || !hasNote(h.notes(), "Could not share gone cannot share /gone: no such folder") {
			t.Errorf("started %v, notes %v", h.eng.startedCfgs(), h.notes())
		}
		// The engine refuses: the file server started for it stops.
		files.mu.Lock()
		files.err = nil
		files.mu.Unlock()
		h.eng.setErr(errors.New("the tunnel manager is closed"))
		h.click("share/folder")
		if served, stopped := files.get(); !slices.Equal(served, stopped) || len(served) != 1 {
			t.Errorf("served %q, stopped %q: want the file server stopped", served, stopped)
		}
	})
}

// Inspect traffic: the inspector starts for the tunnel, its page opens,
// Open inspector opens it again, turning it off or quitting stops it.
func TestLoopInspects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		insp := &fakeInspector{}
		h := start(t, func(c *Config) { c.Inspector = insp })
		h.snap(openTunnel(1, 3000, 41234), openTunnel(2, 8000, 41235))
		h.click("tunnel/1/inspect")
		want := []string{"on 1 localhost:3000 localhost:3000 → bore.pub:41234"}
		if got := insp.get(); !slices.Equal(got, want) {
			t.Errorf("inspector: %q, want %q", got, want)
		}
		page := "http://127.0.0.1:45671/?token=t"
		if _, opened, _ := h.rec.get(); !slices.Equal(opened, []string{page}) {
			t.Errorf("opened %q, want the page", opened)
		}
		if e, _ := h.view().Find("tunnel/1/inspect"); !e.Checked {
			t.Error("Inspect traffic is not checked")
		}
		h.click("tunnel/1/inspector")
		if _, opened, _ := h.rec.get(); !slices.Equal(opened, []string{page, page}) {
			t.Errorf("opened %q, want the page twice", opened)
		}
		h.click("tunnel/1/inspect")
		h.click("tunnel/2/inspect")
		want = append(want, "off 1", "on 2 localhost:8000 localhost:8000 → bore.pub:41235")
		if got := insp.get(); !slices.Equal(got, want) {
			t.Errorf("inspector: %q, want %q", got, want)
		}
		h.stop()
		if got := insp.get(); !slices.Equal(got, append(want, "off 2")) {
			t.Errorf("after quitting, inspector: %q, want tunnel 2 stopped", got)
		}
	})
}

func TestLoopInspectFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		insp := &fakeInspector{err: errors.New("inspector: cannot listen")}
		h := start(t, func(c *Config) { c.Inspector = insp })
		defer h.stop()
		h.snap(openTunnel(1, 3000, 41234))
		h.click("tunnel/1/inspect")
		if !hasNote(h.notes(), "Could not inspect localhost:3000 → bore.pub:41234 inspector: cannot listen") {
			t.Errorf("notes = %v", h.notes())
		}
		if e, _ := h.view().Find("tunnel/1/inspect"); e.Checked {
			t.Error("Inspect traffic stays checked after the inspector failed")
		}
	})
}
