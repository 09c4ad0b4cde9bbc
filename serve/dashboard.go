package serve

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// The dashboard is a static page (HTML, CSS, ES modules and the vendored
// Chart.js) embedded in the binary, so `go build` needs no Node step. Loading
// it needs no key: it asks for one and sends it with every API call, so the
// page can show nothing the key could not read through the API itself.

//go:embed web/index.html web/app.css web/js web/vendor/chart.umd.min.js web/vendor/LICENSE.md
var webFS embed.FS

// contentSecurityPolicy keeps the page to its own origin: no external
// scripts, styles, fonts or connections, and no inline script.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// loadAssets reads every embedded file once; names are relative to web/.
func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) { // the system's MIME table may lack these
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".html":
			ct = "text/html; charset=utf-8"
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "web/")] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return out, err
}

// dashboardRoutes serves the page at / and its files under /ui/.
func (s *Server) dashboardRoutes(e *gin.Engine) {
	assets, err := loadAssets()
	if err != nil {
		// The files are compiled in; failing to read them is a build defect.
		s.log.Error("dashboard assets cannot be read; the page is not served", "err", err)
		return
	}
	serveAsset := func(c *gin.Context, name string) {
		a, ok := assets[name]
		if !ok {
			s.fail(c, errRouteNotFound)
			return
		}
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		// Revalidate every time: a new binary must never run with the
		// scripts of the old one, and an ETag makes revalidation cheap.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		if etagMatches(c.GetHeader("If-None-Match"), a.etag) {
			c.AbortWithStatus(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, a.contentType, a.body)
	}
	e.GET("/", func(c *gin.Context) { serveAsset(c, "index.html") })
	e.GET("/ui/*file", func(c *gin.Context) { serveAsset(c, strings.TrimPrefix(c.Param("file"), "/")) })
}
