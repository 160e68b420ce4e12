package botapifake

import (
	"net/http"
	"strconv"
	"time"
)

// MaxDownload is the largest file the Bot API lets a bot download
// (getFile refuses bigger ones).
const MaxDownload = 20 << 20

// storedFile is a file users have sent, as the Bot API keeps it.
type storedFile struct {
	data []byte
	// size is what updates and getFile say; a file given with a size over
	// MaxDownload stands for a big upload without holding its bytes.
	size int64
	path string
}

// AddFile keeps a file users send and answers its file_id. A size above
// len(data) pretends the file is that big (getFile then refuses it when
// over MaxDownload, as the real API does).
func (s *Server) AddFile(data []byte, size int64, ext string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string]storedFile{}
	}
	n := len(s.files) + 1
	id := "file-" + strconv.Itoa(n)
	if size < int64(len(data)) {
		size = int64(len(data))
	}
	s.files[id] = storedFile{data: data, size: size, path: "documents/file_" + strconv.Itoa(n) + ext}
	return id
}

func (s *Server) getFile(w http.ResponseWriter, p map[string]string) {
	s.mu.Lock()
	f, ok := s.files[p["file_id"]]
	s.mu.Unlock()
	switch {
	case !ok:
		writeAPI(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"})
	case f.size > MaxDownload:
		writeAPI(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: file is too big"})
	default:
		writeOK(w, map[string]any{"file_id": p["file_id"], "file_unique_id": "u" + p["file_id"], "file_size": f.size, "file_path": f.path})
	}
}

// serveFile answers https://api.telegram.org/file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	s.calls["file"]++
	var data []byte
	found := false
	for _, f := range s.files {
		if f.path == path && f.size <= MaxDownload {
			data, found = f.data, true
		}
	}
	s.mu.Unlock()
	if !found || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// Photo is a photo a user sends (Telegram offers it in sizes; the largest
// is fileID), optionally with a caption and as a reply to a message.
func Photo(chatID int64, language, fileID string, size int64, caption string, replyTo int) func(int) map[string]any {
	return func(id int) map[string]any {
		u := Text(chatID, language, "", replyTo)(id)
		msg := u["message"].(map[string]any)
		delete(msg, "text")
		msg["photo"] = []map[string]any{
			{"file_id": fileID + "-small", "file_unique_id": "s" + fileID, "width": 90, "height": 90, "file_size": 1000},
			{"file_id": fileID, "file_unique_id": "u" + fileID, "width": 1280, "height": 960, "file_size": size},
		}
		if caption != "" {
			msg["caption"] = caption
		}
		msg["date"] = time.Now().Unix()
		return u
	}
}

// Document is a file a user sends as a document.
func Document(chatID int64, language, fileID, fileName, mimeType string, size int64, caption string, replyTo int) func(int) map[string]any {
	return func(id int) map[string]any {
		u := Text(chatID, language, "", replyTo)(id)
		msg := u["message"].(map[string]any)
		delete(msg, "text")
		msg["document"] = map[string]any{"file_id": fileID, "file_unique_id": "u" + fileID, "file_name": fileName, "mime_type": mimeType, "file_size": size}
		if caption != "" {
			msg["caption"] = caption
		}
		return u
	}
}
