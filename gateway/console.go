package gateway

import (
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// consoleHandler serves the built console. Paths that are not files are
// the console's own routes (/customers/12) and get index.html; only GET
// and HEAD do: a POST to a wrong path (a misaddressed webhook) must fail,
// not be answered 200 with the console.
func consoleHandler(dir string) http.Handler {
	return onlyReads(consoleFiles(dir))
}

func onlyReads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !safeMethod(r.Method) {
			w.Header().Set("Allow", "GET, HEAD")
			writeStatusAs(w, http.StatusMethodNotAllowed, status.Newf(codes.Unimplemented, "%s is not allowed here; the API is under /api/v1", r.Method))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// encodings are the precompressed variants the console build writes beside
// each file (name.br, name.gz), best first.
var encodings = []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

func consoleFiles(dir string) http.Handler {
	if dir == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "the console is not built into this gateway (CRM_CONSOLE_DIR is unset); the API is under /api/v1", http.StatusNotFound)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		immutable := strings.HasPrefix(p, "/assets/")
		if !isFile(dir, p) {
			if immutable {
				// A hashed file this build does not have (a page from an
				// older build): answering with index.html would hand HTML
				// to a <script>.
				http.NotFound(w, r)
				return
			}
			p = "/index.html"
		}
		if immutable {
			// Vite names assets by content hash.
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			// index.html names the current hashed assets: always revalidate.
			w.Header().Set("Cache-Control", "no-cache")
		}
		serveFile(w, r, dir, p)
	})
}

// serveFile answers with the file at p, or with its brotli or gzip variant
// when the client takes that encoding: compressed once at build time, not
// per request.
func serveFile(w http.ResponseWriter, r *http.Request, dir, p string) {
	name := filepath.Join(dir, filepath.FromSlash(p))
	st, err := os.Stat(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	ctype := mime.TypeByExtension(path.Ext(p))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Add("Vary", "Accept-Encoding")
	accepted := acceptedEncodings(r.Header.Get("Accept-Encoding"))
	for _, e := range encodings {
		if !accepted(e.name) {
			continue
		}
		f, err := os.Open(name + e.ext)
		if err != nil {
			continue
		}
		defer f.Close()
		fst, err := f.Stat()
		if err != nil {
			continue
		}
		h.Set("Content-Encoding", e.name)
		// ServeContent leaves out Content-Length once an encoding is set
		// (it expects a compressing writer); this body is final, so say
		// its length, and serve it whole: a range of compressed bytes
		// helps no browser.
		h.Set("Content-Length", strconv.FormatInt(fst.Size(), 10))
		r = r.Clone(r.Context())
		r.Header.Del("Range")
		http.ServeContent(w, r, p, st.ModTime(), f)
		return
	}
	f, err := os.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	http.ServeContent(w, r, p, st.ModTime(), f)
}

func isFile(dir, p string) bool {
	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
	return err == nil && !st.IsDir()
}

// acceptedEncodings reads an Accept-Encoding header (RFC 9110 §12.5.3):
// an encoding is taken when listed, or covered by "*", with q above 0.
func acceptedEncodings(header string) func(string) bool {
	q := map[string]float64{}
	for _, item := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(item), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		weight := 1.0
		for _, param := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					weight = f
				}
			}
		}
		q[name] = weight
	}
	return func(enc string) bool {
		if w, ok := q[enc]; ok {
			return w > 0
		}
		w, ok := q["*"]
		return ok && w > 0
	}
}
