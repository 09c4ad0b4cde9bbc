package serve

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// csvFlushRows is how many rows are buffered before a flush; each flush also
// extends the write deadline, so a full export is bounded by its progress,
// not by the server's write timeout.
const csvFlushRows = 2000

var csvHeader = []string{"customer_id", "probability", "band", "tier", "lifetime_value", "expected_loss",
	"reasons", "model_version", "as_of", "run_id", "uplift", "uplift_model"}

// writeCSV streams every matching row (the limit does not apply) in the
// requested order.
func (s *Server) writeCSV(c *gin.Context, snap *Snapshot, q listQuery, from *after) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="scores-`+safeFileName(snap.run.ID)+`.csv"`)
	c.Status(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	w := csv.NewWriter(c.Writer)
	_ = w.Write(csvHeader)
	var (
		rows  int
		err   error
		model = strconv.Itoa(int(snap.run.ModelVersion))
		asOf  = snap.run.AsOf.Format(dateLayout)
		rec   = make([]string, len(csvHeader))
		texts []string
	)
	snap.scan(q.sort, q.filter, from, func(i int32) bool {
		sc := snap.Score(i)
		texts = texts[:0]
		for _, r := range sc.Reasons {
			texts = append(texts, r.Text)
		}
		rec[0], rec[1], rec[2], rec[3] = sc.CustomerID, f32(sc.Probability), string(sc.Band), string(sc.Tier)
		rec[4], rec[5], rec[6] = f32(sc.LifetimeValue), f32(sc.ExpectedLoss), strings.Join(texts, "; ")
		rec[7], rec[8], rec[9] = model, asOf, snap.run.ID
		rec[10], rec[11] = "", ""
		if sc.UpliftModel != 0 {
			rec[10], rec[11] = f32(sc.Uplift), strconv.Itoa(int(sc.UpliftModel))
		}
		if err = w.Write(rec); err != nil {
			return false
		}
		if rows++; rows%csvFlushRows == 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			w.Flush()
			err = w.Error()
		}
		return err == nil && c.Request.Context().Err() == nil
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if err != nil {
		// Headers are gone; all that is left is to stop and say so in the log.
		s.log.Warn("csv export stopped", "request_id", c.GetString(ctxRequestID), "rows", rows, "err", err)
	}
	s.metrics.scoresServed(routeLabel(c), rows)
}

func f32(v float64) string { return strconv.FormatFloat(v, 'g', -1, 32) }

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}
