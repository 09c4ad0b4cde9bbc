package serve

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

// Limits of the API.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
	maxBatch        = 1000
)

// listQuery is a parsed GET /v1/scores query.
type listQuery struct {
	sort   SortKey
	filter Filter
	limit  int
	cursor *cursor
	csv    bool
}

// queryParams are the query parameters of each route (by its gin path) that
// takes any; every other route takes none. checkQuery refuses the others
// and repeated ones, so that a typo (teir=A) does not silently return the
// unfiltered list. openapi.yaml declares the same (TestEveryRouteTakesTheQueryParametersOpenAPIDeclares).
var queryParams = map[string][]string{
	"/v1/scores":          {"tier", "band", "min_probability", "region", "reason", "sort", "limit", "cursor", "format"},
	"/v1/actions":         {"status", "tier", "kind", "cycle", "customer_id", "agent", "limit", "offset"},
	"/v1/retention/lift":  {"cycle"},
	"/v1/jobs":            {"job", "limit"},
	"/v1/runs":            {"limit"},
	"/v1/models/rollback": {"kind"},
}

// checkQuery answers 400 for a query parameter its route does not take or
// one given twice, naming it.
func (s *Server) checkQuery(c *gin.Context) {
	known := queryParams[c.FullPath()]
	for name, vs := range c.Request.URL.Query() {
		var err error
		switch {
		case len(known) == 0:
			err = invalid(name, "unknown parameter; %s takes none", c.FullPath())
		case !slices.Contains(known, name):
			err = invalid(name, "unknown parameter; known: %s", strings.Join(known, ", "))
		case len(vs) > 1:
			err = invalid(name, "given %d times; give it once", len(vs))
		}
		if err != nil {
			s.fail(c, err)
			c.Abort()
			return
		}
	}
	c.Next()
}

// parseListQuery validates every parameter and names the first one at fault
// (checkQuery has refused unknown and repeated ones).
func parseListQuery(q url.Values) (listQuery, error) {
	out := listQuery{limit: defaultPageSize}
	if v, ok := q["tier"]; ok {
		tier, err := churn.ParseValueTier(v[0])
		if err != nil {
			return out, err
		}
		t := uint8(tier.Rank())
		out.filter.Tier = &t
	}
	if v, ok := q["band"]; ok {
		band, err := churn.ParseRiskBand(v[0])
		if err != nil {
			return out, err
		}
		i := band.Rank()
		b := uint8(i)
		out.filter.Band = &b
	}
	if v, ok := q["min_probability"]; ok {
		p, err := strconv.ParseFloat(v[0], 64)
		if err != nil || math.IsNaN(p) || p < 0 || p > 1 {
			return out, invalid("min_probability", "%q: want a number from 0 to 1", v[0])
		}
		out.filter.MinProbability = float32(p)
	}
	for _, p := range []struct {
		name string
		to   *string
	}{{"region", &out.filter.Region}, {"reason", &out.filter.Reason}} {
		if v, ok := q[p.name]; ok {
			if err := validLabel(p.name, v[0]); err != nil {
				return out, err
			}
			*p.to = v[0]
		}
	}
	if v, ok := q["sort"]; ok {
		i := slices.Index(sortNames[:], v[0])
		if i < 0 {
			return out, invalid("sort", "%q: want expected_loss, probability, lifetime_value or uplift", v[0])
		}
		out.sort = SortKey(i)
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxPageSize {
			return out, invalid("limit", "%q: want a whole number from 1 to %d", v[0], maxPageSize)
		}
		out.limit = n
	}
	if v, ok := q["format"]; ok {
		switch v[0] {
		case "json":
		case "csv":
			out.csv = true
		default:
			return out, invalid("format", "%q: want json or csv", v[0])
		}
	}
	if v, ok := q["cursor"]; ok {
		c, ok := decodeCursor(v[0])
		if !ok {
			return out, invalid("cursor", "not a cursor returned by this API; start again without it")
		}
		out.cursor = &c
	}
	return out, nil
}

// resume checks a cursor against the snapshot and the query and returns the
// position to continue after. A cursor of an older run is 410 Gone: the
// ranking changed, so the client must start the list again.
func (q listQuery) resume(s *Snapshot) (*after, error) {
	c := q.cursor
	if c == nil {
		return nil, nil
	}
	if c.Run != s.run.ID {
		return nil, &httpError{status: 410, code: "cursor_expired", field: "cursor",
			msg: "cursor: the list was re-ranked by scoring run " + s.run.ID + " after this cursor was made; start again without a cursor"}
	}
	if c.Sort != q.sort.String() || c.Filter != q.filter.fingerprint() {
		return nil, invalid("cursor", "this cursor belongs to a query with other sort or filters; repeat the query it came from")
	}
	return &after{key: math.Float32frombits(c.Key), id: c.ID}, nil
}
