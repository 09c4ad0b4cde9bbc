package serve

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

func versionParam(c *gin.Context) (churn.ModelVersion, error) {
	return churn.ParseModelVersion(c.Param("version"))
}

func (s *Server) listModels(c *gin.Context) {
	ms, err := s.deps.Models.Models(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := modelsJSON{Models: make([]modelJSON, len(ms))}
	for i, m := range ms {
		out.Models[i] = newModelJSON(m)
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, out)
}

func (s *Server) getModel(c *gin.Context) {
	v, err := versionParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.deps.Models.Model(c.Request.Context(), v)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, newModelJSON(m)) // artifact bytes are left out: only their size
}

func (s *Server) promoteModel(c *gin.Context) {
	v, err := versionParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var req promoteRequest
	if err := decodeJSON(c, &req, true); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.deps.Models.Promote(c.Request.Context(), v, c.GetString(ctxActor), req.Reason); err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("model promoted", "version", v, "actor", c.GetString(ctxActor), "reason", req.Reason,
		"request_id", c.GetString(ctxRequestID))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, championJSON{Champion: v})
}

func (s *Server) rollbackModel(c *gin.Context) {
	kind, err := churn.ParseModelKind(c.Query("kind"))
	if err != nil {
		s.fail(c, err)
		return
	}
	var req promoteRequest
	if err := decodeJSON(c, &req, true); err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.deps.Models.Rollback(c.Request.Context(), kind, c.GetString(ctxActor), req.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("model rolled back", "kind", kind, "champion", v, "actor", c.GetString(ctxActor), "reason", req.Reason,
		"request_id", c.GetString(ctxRequestID))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, championJSON{Champion: v})
}
