package serve

import (
	"context"
	"time"

	"github.com/telcoretain/churn/retention"
)

// QueueOwnership decides whether this server owns the retention action queue
// (*retention.Ownership). Check runs on every poll (the caller ran the first
// before the server starts); a server that does not own the queue serves action reads and
// refuses writes.
type QueueOwnership interface {
	Check(ctx context.Context) error
	Status() retention.OwnerStatus
}

// runOwner checks the queue's ownership on every poll until ctx ends, in a
// loop of its own: a sync of the queue that waits behind busy writers must
// not delay the owner's heartbeat.
func (s *Server) runOwner(ctx context.Context) error {
	if s.deps.Owner == nil {
		return nil
	}
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_ = s.deps.Owner.Check(ctx) // logs its own failures and role changes
		}
	}
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
