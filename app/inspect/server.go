package inspect

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// sseBatch is the shortest time between two pushes to one live view:
// changes in between go out together.
const sseBatch = 100 * time.Millisecond

// sseKeepAlive is how often an idle event stream gets a comment, so a
// dead view is noticed.
const sseKeepAlive = 15 * time.Second

// cookieName is the cookie that carries the token after the first visit.
// Cookies do not keep ports apart, so the name holds the port: two
// inspectors on one machine do not overwrite each other's.
func (in *Inspector) cookieName() string {
	_, port, _ := net.SplitHostPort(in.Addr())
	return "bore_inspect_" + port
}

func (in *Inspector) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", in.page)
	mux.HandleFunc("GET /static/{file}", in.staticFile)
	mux.HandleFunc("GET /api/info", in.info)
	mux.HandleFunc("GET /api/items", in.items)
	mux.HandleFunc("GET /api/items/{id}", in.itemDetail)
	mux.HandleFunc("POST /api/items/{id}/replay", in.replayHandler)
	mux.HandleFunc("POST /api/clear", in.clearHandler)
	mux.HandleFunc("GET /api/events", in.events)
	guarded := in.guard(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.mu.Lock()
		if in.closed {
			in.mu.Unlock()
			http.Error(w, "the inspector has stopped", http.StatusServiceUnavailable)
			return
		}
		in.handlers.Add(1)
		in.mu.Unlock()
		defer in.handlers.Done()
		guarded.ServeHTTP(w, r)
	})
}

// guard lets a request through only when it is for this page on
// loopback (the Host header names it: no DNS rebinding) and carries the
// token, in the URL or the cookie set from it. It sets headers that keep
// other pages from framing, reading or scripting it; there is no CORS.
func (in *Inspector) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		if !in.hostOK(r.Host) {
			http.Error(w, "This page only answers at its loopback address.", http.StatusMisdirectedRequest)
			return
		}
		if tok := r.URL.Query().Get("token"); tok != "" && in.tokenOK(tok) {
			http.SetCookie(w, &http.Cookie{
				Name: in.cookieName(), Value: in.token, Path: "/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode,
			})
			if r.Method == http.MethodGet && r.URL.Path == "/" {
				// Take the token out of the address bar and history.
				http.Redirect(w, r, "/", http.StatusSeeOther)
				return
			}
		} else if c, err := r.Cookie(in.cookieName()); err != nil || !in.tokenOK(c.Value) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "Open the inspector with the address bore printed, the one with ?token=…, or from the tray's \"Inspect traffic\".\n")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// Changes only from our own page: same origin, JSON bodies
			// (which a cross-site form cannot send without CORS).
			if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
			if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
				http.Error(w, "cross-site request refused", http.StatusForbidden)
				return
			}
			if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
				http.Error(w, "expected a JSON body", http.StatusUnsupportedMediaType)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (in *Inspector) tokenOK(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(in.token)) == 1
}

// hostOK accepts the loopback names of the page's own port.
func (in *Inspector) hostOK(host string) bool {
	_, port, _ := net.SplitHostPort(in.Addr())
	h, p, err := net.SplitHostPort(host)
	if err != nil || p != port {
		return false
	}
	switch strings.ToLower(h) {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback() && ip.String() == hostIP(in.Addr())
}

func hostIP(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

func (in *Inspector) page(w http.ResponseWriter, r *http.Request) {
	b, _ := static.ReadFile("static/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

func (in *Inspector) staticFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := static.ReadFile("static/" + name)
	if err != nil || strings.HasSuffix(name, ".html") {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (in *Inspector) info(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"title":     in.getTitle(),
		"target":    in.opts.Target,
		"max_items": in.opts.MaxItems,
		"max_bytes": in.opts.MaxBytes,
		"body_cap":  in.opts.BodyCap,
	})
}

func (in *Inspector) items(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, in.store.list())
}

func (in *Inspector) lookup(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusNotFound, "no such item")
		return 0, false
	}
	return id, true
}

func (in *Inspector) itemDetail(w http.ResponseWriter, r *http.Request) {
	id, ok := in.lookup(w, r)
	if !ok {
		return
	}
	d, ok := in.store.get(id)
	if !ok {
		writeErr(w, http.StatusNotFound, "this item is no longer kept (cleared, or pushed out by newer ones)")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (in *Inspector) replayHandler(w http.ResponseWriter, r *http.Request) {
	id, ok := in.lookup(w, r)
	if !ok {
		return
	}
	in.store.mu.Lock()
	it := in.store.byID[id]
	in.store.mu.Unlock()
	if it == nil || it.kind != kindHTTP {
		writeErr(w, http.StatusNotFound, "this request is no longer kept")
		return
	}
	var rr replayRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4*int64(in.opts.BodyCap)+1<<20))
	if err := dec.Decode(&rr); err != nil {
		writeErr(w, http.StatusBadRequest, "the replay request is not valid JSON: "+err.Error())
		return
	}
	v, err := in.replay(r.Context(), it, rr)
	var bad *errBadReplay
	if errors.As(err, &bad) {
		writeErr(w, http.StatusBadRequest, bad.msg)
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (in *Inspector) clearHandler(w http.ResponseWriter, r *http.Request) {
	in.store.clear()
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// events streams changes to the list as server-sent events: "item" with
// a summary, "remove" with an ID, "reset" when the page should reload the
// whole list.
func (in *Inspector) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	sub := in.store.subscribe()
	defer in.store.unsubscribe(sub)
	fmt.Fprint(w, "retry: 1000\n\n")
	if rc.Flush() != nil {
		return
	}
	keep := time.NewTicker(sseKeepAlive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case <-sub.wake:
			changed, removed, reset := in.store.take(sub)
			if reset {
				fmt.Fprint(w, "event: reset\ndata: {}\n\n")
			}
			for _, s := range changed {
				b, _ := json.Marshal(s)
				fmt.Fprintf(w, "event: item\ndata: %s\n\n", b)
			}
			for _, id := range removed {
				fmt.Fprintf(w, "event: remove\ndata: %d\n\n", id)
			}
		}
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if rc.Flush() != nil {
			return
		}
		rc.SetWriteDeadline(time.Time{})
		select {
		case <-r.Context().Done():
			return
		case <-time.After(sseBatch):
		}
	}
}
