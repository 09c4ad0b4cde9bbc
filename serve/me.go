package serve

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

type meJSON struct {
	Role     string `json:"role"`
	Actor    string `json:"actor"`
	Agent    string `json:"agent"` // the name claims are recorded under
	Database string `json:"database"`
}

// me tells a client what its key may do, so that the dashboard shows only
// the controls the key's role can use, and which database the server serves.
func (s *Server) me(c *gin.Context) {
	v, _ := c.Get(ctxRole)
	role, _ := v.(Role)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, meJSON{Role: role.String(), Actor: c.GetString(ctxActor), Agent: c.GetString(ctxAgent), Database: s.cfg.Database})
}
