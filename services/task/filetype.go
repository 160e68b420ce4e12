package task

import (
	"archive/zip"
	"bytes"
	"image"
	"image/jpeg"
	_ "image/png" // decoded for thumbnails
	"io"
	"net/http"
	"os"
	"path"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decoded for thumbnails

	"github.com/telecomcrm/crm/services/platform/fault"
)

// fileKind is one type of file an attachment may be: what its name's
// extensions are and how its bytes are recognised.
type fileKind struct {
	contentType string
	extensions  []string
}

// Types an attachment may have. The name's extension says what the sender
// claims; the bytes decide.
var (
	kindJPEG = fileKind{"image/jpeg", []string{".jpg", ".jpeg"}}
	kindPNG  = fileKind{"image/png", []string{".png"}}
	kindWebP = fileKind{"image/webp", []string{".webp"}}
	kindHEIC = fileKind{"image/heic", []string{".heic", ".heif"}}
	kindPDF  = fileKind{"application/pdf", []string{".pdf"}}
	kindText = fileKind{"text/plain; charset=utf-8", []string{".txt", ".log", ".csv"}}
	kindDOCX = fileKind{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", []string{".docx"}}
	kindXLSX = fileKind{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []string{".xlsx"}}
	kindPPTX = fileKind{"application/vnd.openxmlformats-officedocument.presentationml.presentation", []string{".pptx"}}
	kindODT  = fileKind{"application/vnd.oasis.opendocument.text", []string{".odt"}}
	kindODS  = fileKind{"application/vnd.oasis.opendocument.spreadsheet", []string{".ods"}}
	// The pre-2007 Office formats share one container; which program made
	// the file is not told apart.
	kindOLE = fileKind{"application/x-ole-storage", []string{".doc", ".xls", ".ppt"}}
)

// Refusal reasons a client can tell apart (the console and the bot word
// each).
const (
	reasonTooLarge     = "ATTACHMENT_TOO_LARGE"
	reasonTypeRefused  = "ATTACHMENT_TYPE_REFUSED"
	reasonTypeMismatch = "ATTACHMENT_TYPE_MISMATCH"
	reasonTooMany      = "ATTACHMENT_LIMIT"
	reasonEmpty        = "ATTACHMENT_EMPTY"
)

func refusal(reason, format string, args ...any) *fault.Error {
	e := fault.Field("fileName", format, args...)
	e.Reason = reason
	return e
}

// sniff decides a file's type from its bytes (f holds the whole file, of
// size bytes) and checks that its name's extension claims that type.
func sniff(f io.ReaderAt, size int64, name string) (fileKind, error) {
	head := make([]byte, 512)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	kind, ok := detect(f, size, head)
	if !ok {
		return fileKind{}, refusal(reasonTypeRefused, "files of this type cannot be attached: images (JPEG, PNG, WebP, HEIC), PDF, office documents and plain text can")
	}
	ext := strings.ToLower(path.Ext(name))
	if ext == "" {
		return kind, nil
	}
	for _, e := range kind.extensions {
		if e == ext {
			return kind, nil
		}
	}
	return fileKind{}, refusal(reasonTypeMismatch, "the file is named %s but its content is %s", ext, kind.contentType)
}

func detect(f io.ReaderAt, size int64, head []byte) (fileKind, bool) {
	switch ct := http.DetectContentType(head); {
	case ct == "image/jpeg":
		return kindJPEG, true
	case ct == "image/png":
		return kindPNG, true
	case ct == "image/webp":
		return kindWebP, true
	case ct == "application/pdf":
		return kindPDF, true
	case ct == "text/plain; charset=utf-8":
		return kindText, true
	case ct == "application/zip":
		return officeDocument(f, size)
	}
	if isHEIC(head) {
		return kindHEIC, true
	}
	if bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}) {
		return kindOLE, true
	}
	return fileKind{}, false
}

// isHEIC recognises the ISO media file box of HEIF images.
func isHEIC(head []byte) bool {
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return false
	}
	switch string(head[8:12]) {
	case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
		return true
	}
	return false
}

// officeDocument tells an Office Open XML or OpenDocument file from any
// other zip by what the container holds.
func officeDocument(f io.ReaderAt, size int64) (fileKind, bool) {
	z, err := zip.NewReader(f, size)
	if err != nil {
		return fileKind{}, false
	}
	var contentTypes bool
	dirs := map[string]bool{}
	for _, e := range z.File {
		switch {
		case e.Name == "[Content_Types].xml":
			contentTypes = true
		case e.Name == "mimetype":
			return openDocument(e)
		}
		if i := strings.IndexByte(e.Name, '/'); i > 0 {
			dirs[e.Name[:i]] = true
		}
	}
	if !contentTypes {
		return fileKind{}, false
	}
	switch {
	case dirs["word"]:
		return kindDOCX, true
	case dirs["xl"]:
		return kindXLSX, true
	case dirs["ppt"]:
		return kindPPTX, true
	}
	return fileKind{}, false
}

func openDocument(e *zip.File) (fileKind, bool) {
	r, err := e.Open()
	if err != nil {
		return fileKind{}, false
	}
	defer r.Close()
	b, _ := io.ReadAll(io.LimitReader(r, 100))
	switch string(bytes.TrimSpace(b)) {
	case kindODT.contentType:
		return kindODT, true
	case kindODS.contentType:
		return kindODS, true
	}
	return fileKind{}, false
}

// Thumbnails are JPEGs that fit in a thumbnailSide square; larger images
// than maxThumbnailPixels get none, so a crafted image cannot exhaust memory.
const (
	thumbnailSide      = 320
	maxThumbnailPixels = 40_000_000
)

// thumbnail makes a small JPEG of an image the standard decoders read
// (JPEG, PNG, WebP); false for other types and undecodable images.
func thumbnail(f *os.File, kind fileKind) ([]byte, bool) {
	if kind.contentType != kindJPEG.contentType && kind.contentType != kindPNG.contentType && kind.contentType != kindWebP.contentType {
		return nil, false
	}
	cfg, _, err := image.DecodeConfig(io.NewSectionReader(f, 0, 1<<62))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxThumbnailPixels {
		return nil, false
	}
	img, _, err := image.Decode(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return nil, false
	}
	w, h := cfg.Width, cfg.Height
	if w > thumbnailSide || h > thumbnailSide {
		if w >= h {
			w, h = thumbnailSide, max(1, h*thumbnailSide/w)
		} else {
			w, h = max(1, w*thumbnailSide/h), thumbnailSide
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}
