package gateway

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// writeConsole lays out a built console: files keyed by slash path.
func writeConsole(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestConsoleServesPrecompressedFilesByAcceptEncodingWithTheirCaching(t *testing.T) {
	const immutable = "public, max-age=31536000, immutable"
	dir := writeConsole(t, map[string]string{
		"index.html":              "<!doctype html>index",
		"index.html.br":           "index-br",
		"index.html.gz":           "index-gz",
		"favicon.svg":             "<svg/>",
		"assets/index-abc.js":     "entry-raw",
		"assets/index-abc.js.br":  "entry-br",
		"assets/index-abc.js.gz":  "entry-gz",
		"assets/index-abc.css":    "css-raw",
		"assets/index-abc.css.gz": "css-gz",
		"assets/logo-abc.woff2":   "font-raw",
	})
	h := consoleHandler(dir)
	for _, tc := range []struct {
		name, method, path, acceptEncoding string
		code                               int
		body, encoding, contentType, cache string
	}{
		{"brotli preferred when offered", "GET", "/assets/index-abc.js", "gzip, deflate, br, zstd", 200, "entry-br", "br", "text/javascript; charset=utf-8", immutable},
		{"gzip when brotli is not offered", "GET", "/assets/index-abc.js", "gzip, deflate", 200, "entry-gz", "gzip", "text/javascript; charset=utf-8", immutable},
		{"gzip when brotli is refused with q=0", "GET", "/assets/index-abc.js", "br;q=0, gzip;q=0.5", 200, "entry-gz", "gzip", "text/javascript; charset=utf-8", immutable},
		{"gzip when the build made no brotli file", "GET", "/assets/index-abc.css", "br, gzip", 200, "css-gz", "gzip", "text/css; charset=utf-8", immutable},
		{"identity when nothing is offered", "GET", "/assets/index-abc.js", "", 200, "entry-raw", "", "text/javascript; charset=utf-8", immutable},
		{"identity when only unknown encodings are offered", "GET", "/assets/index-abc.js", "zstd, deflate", 200, "entry-raw", "", "text/javascript; charset=utf-8", immutable},
		{"any encoding by a wildcard", "GET", "/assets/index-abc.js", "*", 200, "entry-br", "br", "text/javascript; charset=utf-8", immutable},
		{"a file with no variants as it is", "GET", "/assets/logo-abc.woff2", "br, gzip", 200, "font-raw", "", "font/woff2", immutable},
		{"HEAD names the encoding without a body", "HEAD", "/assets/index-abc.js", "br", 200, "", "br", "text/javascript; charset=utf-8", immutable},
		{"a missing hashed asset is not found, not index.html", "GET", "/assets/index-old.js", "br", 404, "404 page not found\n", "", "text/plain; charset=utf-8", ""},
		{"a client route gets index.html, compressed", "GET", "/customers/12", "gzip, br", 200, "index-br", "br", "text/html; charset=utf-8", "no-cache"},
		{"a client route gets index.html as it is", "GET", "/tasks", "", 200, "<!doctype html>index", "", "text/html; charset=utf-8", "no-cache"},
		{"the root gets index.html", "GET", "/", "gzip", 200, "index-gz", "gzip", "text/html; charset=utf-8", "no-cache"},
		{"index.html by name is revalidated", "GET", "/index.html", "", 200, "<!doctype html>index", "", "text/html; charset=utf-8", "no-cache"},
		{"a file outside assets is revalidated", "GET", "/favicon.svg", "br", 200, "<svg/>", "", "image/svg+xml", "no-cache"},
		{"a path escaping the folder stays inside", "GET", "/../../etc/passwd", "", 200, "<!doctype html>index", "", "text/html; charset=utf-8", "no-cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.acceptEncoding != "" {
				r.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("HTTP %d, want %d; body %q", w.Code, tc.code, w.Body.String())
			}
			if got := w.Body.String(); got != tc.body {
				t.Errorf("body %q, want %q", got, tc.body)
			}
			for header, want := range map[string]string{
				"Content-Encoding": tc.encoding,
				"Content-Type":     tc.contentType,
				"Cache-Control":    tc.cache,
			} {
				if got := w.Header().Get(header); got != want {
					t.Errorf("%s %q, want %q", header, got, want)
				}
			}
			if tc.code == 200 {
				if got := w.Header().Get("Vary"); got != "Accept-Encoding" {
					t.Errorf("Vary %q, want Accept-Encoding: caches must keep one copy per encoding", got)
				}
			}
			if tc.method == "HEAD" && w.Header().Get("Content-Length") != "8" {
				t.Errorf("HEAD Content-Length %q, want the compressed file's 8", w.Header().Get("Content-Length"))
			}
		})
	}
}

func TestConsoleAnswersARangeOfACompressedFileWithTheWholeFile(t *testing.T) {
	dir := writeConsole(t, map[string]string{"index.html": "i", "assets/a.js": "raw-bytes", "assets/a.js.br": "br-bytes"})
	for _, tc := range []struct {
		encoding, body string
		code           int
	}{
		{"br", "br-bytes", 200},
		{"", "raw", 206},
	} {
		r := httptest.NewRequest(http.MethodGet, "/assets/a.js", nil)
		r.Header.Set("Range", "bytes=0-2")
		r.Header.Set("Accept-Encoding", tc.encoding)
		w := httptest.NewRecorder()
		consoleHandler(dir).ServeHTTP(w, r)
		if w.Code != tc.code || w.Body.String() != tc.body {
			t.Errorf("Accept-Encoding %q: HTTP %d %q, want %d %q", tc.encoding, w.Code, w.Body.String(), tc.code, tc.body)
		}
		if got, want := w.Header().Get("Content-Length"), strconv.Itoa(len(tc.body)); got != want {
			t.Errorf("Accept-Encoding %q: Content-Length %q, want %q", tc.encoding, got, want)
		}
	}
}

func TestAcceptEncodingIsReadWithWeightsAndCase(t *testing.T) {
	for _, tc := range []struct {
		header   string
		br, gzip bool
	}{
		{"", false, false},
		{"gzip", false, true},
		{"BR, GZip", true, true},
		{"br;q=0.0, gzip", false, true},
		{"br ; q=1, gzip;q=0", true, false},
		{"*;q=0.1", true, true},
		{"*, br;q=0", false, true},
		{"gzip;q=bogus", false, true},
	} {
		t.Run(tc.header, func(t *testing.T) {
			accepted := acceptedEncodings(tc.header)
			if got := accepted("br"); got != tc.br {
				t.Errorf("br taken %v, want %v", got, tc.br)
			}
			if got := accepted("gzip"); got != tc.gzip {
				t.Errorf("gzip taken %v, want %v", got, tc.gzip)
			}
		})
	}
}

func TestConsoleSaysWhenItIsNotBuilt(t *testing.T) {
	w := httptest.NewRecorder()
	consoleHandler("").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("no console folder: HTTP %d, want 404", w.Code)
	}
}
