// Package share serves a folder read-only over HTTP on a loopback port,
// for a tunnel to publish: the standard library's file server (directory
// listings, ranges, content types) over an os.Root, so nothing outside
// the folder can be reached, not even through symbolic links. Hidden
// files (names starting with ".") are neither listed nor served.
//
// To share a folder through a tunnel:
//
//	srv, err := share.Attach(&cfg, dir, share.Options{})
//	// start the tunnel with cfg; call srv.Close() when it stops
package share

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/boretray/bore/tunnel"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// Listen is the file server's address; it must be a loopback IP.
	// Empty means 127.0.0.1 on a free port.
	Listen string
	// Logger receives one debug line per request; nil discards them.
	Logger *slog.Logger
}

// Server serves one folder (or one file) read-only.
type Server struct {
	dir    string // the folder, absolute
	only   string // when sharing one file: its name in dir
	root   *os.Root
	ln     net.Listener
	srv    *http.Server
	log    *slog.Logger
	served chan struct{}
}

// Start serves path, a folder or a single file, on a loopback port.
func Start(p string, opts Options) (*Server, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cannot share %s: no such folder", abs)
		}
		return nil, fmt.Errorf("cannot share %s: %w", abs, unwrapPath(err))
	}
	dir, only := abs, ""
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("cannot share %s: not a folder or a regular file", abs)
		}
		dir, only = filepath.Dir(abs), filepath.Base(abs)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot share %s: %w", dir, unwrapPath(err))
	}
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if h, _, err := net.SplitHostPort(listen); err != nil || net.ParseIP(h) == nil || !net.ParseIP(h).IsLoopback() {
		root.Close()
		return nil, fmt.Errorf("invalid address %q for the file server: it listens on loopback only (127.0.0.1:PORT)", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("file server: %w", err)
	}
	s := &Server{dir: dir, only: only, root: root, ln: ln, log: opts.Logger, served: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.served)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Attach starts a Server for p and points cfg's local side at it.
func Attach(cfg *tunnel.ClientConfig, p string, opts Options) (*Server, error) {
	s, err := Start(p, opts)
	if err != nil {
		return nil, err
	}
	cfg.LocalHost, cfg.LocalPort = "127.0.0.1", s.Port()
	return s, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Dir is the shared folder (for a single file, its folder).
func (s *Server) Dir() string { return s.dir }

// Addr is the file server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the file server's port, to give the tunnel as its local port.
func (s *Server) Port() uint16 { return uint16(s.ln.Addr().(*net.TCPAddr).Port) }

// Close stops the file server and closes its connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.served
	s.root.Close()
	return err
}

// Handler is the file server: GET and HEAD only, paths that try to leave
// the folder refused.
func (s *Server) Handler() http.Handler {
	files := http.FileServerFS(shareFS{root: s.root, fsys: s.root.FS(), only: s.only})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "read-only: only GET and HEAD", http.StatusMethodNotAllowed)
			return
		}
		if why := badPath(r); why != "" {
			s.log.Debug("refused", "path", r.URL.EscapedPath(), "why", why)
			http.Error(w, "400 bad request: "+why, http.StatusBadRequest)
			return
		}
		s.log.Debug("serve", "method", r.Method, "path", r.URL.Path, "range", r.Header.Get("Range"))
		files.ServeHTTP(w, r)
	})
}

// badPath says why a request's path is refused: dot-dot segments,
// encoded slashes or backslashes, NUL bytes.
func badPath(r *http.Request) string {
	raw := strings.ToLower(r.URL.EscapedPath())
	if r.RequestURI != "" && r.RequestURI != "*" {
		if u, _, _ := strings.Cut(r.RequestURI, "?"); u != "" {
			raw = strings.ToLower(u)
		}
	}
	for _, enc := range []string{"%2f", "%5c", "%00"} {
		if strings.Contains(raw, enc) {
			return "encoded separators are not allowed"
		}
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "malformed path"
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "paths may not go up (..)"
		}
	}
	return ""
}

// hidden reports whether any element of an fs.FS path starts with a dot.
func hidden(name string) bool {
	if name == "." {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// shareFS is the folder as the file server sees it: the os.Root's FS
// (which refuses symlinks leading out) without hidden files, and without
// anything but the shared file when sharing one.
type shareFS struct {
	root *os.Root
	fsys fs.FS
	only string
}

func (f shareFS) allowed(name string) bool {
	if hidden(name) {
		return false
	}
	return f.only == "" || name == "." || name == f.only
}

func (f shareFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) || !f.allowed(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	file, err := f.fsys.Open(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
			// A symlink leading out of the folder: as if absent.
			err = &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return nil, err
	}
	if d, ok := file.(fs.ReadDirFile); ok {
		if fi, err := file.Stat(); err == nil && fi.IsDir() {
			return &dirFile{ReadDirFile: d, fs: f, name: name}, nil
		}
	}
	return file, nil
}

// dirFile lists a directory without what shareFS would not serve.
type dirFile struct {
	fs.ReadDirFile
	fs      shareFS
	name    string
	entries []fs.DirEntry
	read    bool
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		all, err := d.ReadDirFile.ReadDir(-1)
		if err != nil {
			return nil, err
		}
		d.read = true
		for _, e := range all {
			p := path.Join(d.name, e.Name())
			if !d.fs.allowed(p) {
				continue
			}
			if e.Type()&fs.ModeSymlink != 0 {
				// List a link only when it leads somewhere inside.
				fi, err := d.fs.root.Stat(filepath.FromSlash(p))
				if err != nil {
					continue
				}
				e = fs.FileInfoToDirEntry(fi)
			}
			d.entries = append(d.entries, linkEntry{DirEntry: e, name: path.Base(p)})
		}
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(d.entries))
	out := d.entries[:k]
	d.entries = d.entries[k:]
	return out, nil
}

// linkEntry keeps a link's own name when its target's info stands in.
type linkEntry struct {
	fs.DirEntry
	name string
}

func (e linkEntry) Name() string { return e.name }
