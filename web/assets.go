package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

type asset struct {
	body        []byte
	contentType string
}

// assets are the embedded static files, served under content-hashed URLs
// (/static/app.3f9c1a2b.css) with a year-long immutable cache.
type assets struct {
	byURL  map[string]asset  // "/static/app.3f9c1a2b.css" → file
	byName map[string]string // "app.css" → "/static/app.3f9c1a2b.css"
}

func loadAssets() (*assets, error) {
	a := &assets{byURL: map[string]asset{}, byName: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		url := "/static/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:])[:10] + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.byURL[url] = asset{b, ct}
		a.byName[name] = url
		return nil
	})
	return a, err
}

// url is the template function {{asset "app.css"}}.
func (a *assets) url(name string) (string, error) {
	u, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return u, nil
}

// static serves an embedded asset by its hashed URL. Anything else,
// including traversal attempts, is a 404: lookups are by exact key only.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets.byURL[r.URL.Path]
	if !ok {
		s.renderError(w, r, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(a.body)
}
