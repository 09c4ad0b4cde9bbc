package chstore

import (
	"context"
	"time"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/serve"
)

// FinishedRuns returns up to limit finished scoring runs, newest first.
func (s Store) FinishedRuns(ctx context.Context, limit int) ([]serve.Run, error) {
	rs, err := s.Client.FinishedRuns(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]serve.Run, len(rs))
	for i, r := range rs {
		out[i] = runOf(r)
	}
	return out, nil
}

// RunBandCounts counts the scores of each run by risk band.
func (s Store) RunBandCounts(ctx context.Context, runs []serve.Run) (map[string]map[string]int64, error) {
	in := make([]clickhouse.RunInfo, len(runs))
	for i, r := range runs {
		in[i] = clickhouse.RunInfo{RunID: r.ID, AsOf: r.AsOf, ModelVersion: uint32(r.ModelVersion), FinishedAt: r.FinishedAt, Rows: uint64(r.Rows)}
	}
	return s.Client.RunBandCounts(ctx, in)
}

// CustomerProfile reads a customer's recent figures before asOf.
func (s Store) CustomerProfile(ctx context.Context, customerID string, asOf time.Time) (serve.CustomerProfile, error) {
	p, err := s.Client.CustomerProfile(ctx, customerID, asOf)
	if err != nil {
		return serve.CustomerProfile{}, err
	}
	out := serve.CustomerProfile{Customer: p.Customer, Outstanding: p.Outstanding,
		Usage: make([]serve.UsageWindow, len(p.Usage)), Invoices: make([]serve.InvoiceFigures, len(p.Invoices)),
		Tickets: make([]serve.TicketFigures, len(p.Tickets))}
	if p.Plan != nil {
		pl := serve.PlanInForce(*p.Plan)
		out.Plan = &pl
	}
	// The types have the same fields: serve keeps its own so that it does
	// not import the clickhouse package.
	for i, u := range p.Usage {
		out.Usage[i] = serve.UsageWindow(u)
	}
	for i, v := range p.Invoices {
		out.Invoices[i] = serve.InvoiceFigures(v)
	}
	for i, t := range p.Tickets {
		out.Tickets[i] = serve.TicketFigures(t)
	}
	return out, nil
}

func runOf(r clickhouse.RunInfo) serve.Run {
	return serve.Run{ID: r.RunID, AsOf: r.AsOf, ModelVersion: int(r.ModelVersion), FinishedAt: r.FinishedAt, Rows: int64(r.Rows)}
}

var (
	_ serve.RunLister     = Store{}
	_ serve.ProfileReader = Store{}
	_ serve.RegionReader  = Store{}
)
