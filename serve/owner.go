package serve

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn/retention"
)

// QueueOwnership decides whether this server owns the retention action queue
// (*retention.Ownership). Check runs on every poll, before the queue folds in
// the log; a server that does not own the queue serves action reads and
// refuses writes.
type QueueOwnership interface {
	Check(ctx context.Context) error
	Status() retention.OwnerStatus
}

// queueJSON is the queue part of /readyz.
type queueJSON struct {
	Role      string `json:"role"`
	Owner     string `json:"owner,omitempty"`
	OwnerAddr string `json:"owner_addr,omitempty"`
	Term      uint64 `json:"term,omitempty"`
	Error     string `json:"error,omitempty"`
}

func (s *Server) queueStatus() *queueJSON {
	if s.deps.Owner == nil {
		return nil
	}
	st := s.deps.Owner.Status()
	out := &queueJSON{Role: string(st.Role), Owner: st.Owner.Owner, OwnerAddr: st.Owner.Addr, Term: st.Owner.Term}
	if st.Err != nil {
		out.Error = st.Err.Error()
	}
	return out
}

// registerOwnerGauge exports whether this server owns the queue.
func registerOwnerGauge(reg prometheus.Registerer, o QueueOwnership) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "churn_queue_owner",
		Help: "1 while this server owns the retention action queue and accepts action writes, else 0.",
	}, func() float64 {
		if o != nil && o.Status().Role == retention.RoleOwner {
			return 1
		}
		return 0
	}))
}
