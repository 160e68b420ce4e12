package gateway

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
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

func consoleFiles(dir string) http.Handler {
	if dir == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "the console is not built into this gateway (CRM_CONSOLE_DIR is unset); the API is under /api/v1", http.StatusNotFound)
		})
	}
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err == nil && !st.IsDir() {
			if strings.HasPrefix(p, "/assets/") {
				// Vite names assets by content hash.
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			}
			files.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, filepath.Join(dir, "index.html"))
	})
}
