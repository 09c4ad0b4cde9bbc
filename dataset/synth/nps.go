package synth

import (
	"context"
	"fmt"
	"math"
	"time"
)

// The synthetic operator's extra table: NPS survey answers, which no contract
// table holds. The example feature family features/examples/nps.sql reads it
// (table DDL in clickhouse/migrations/0014_nps_surveys.sql and
// features/examples/tables/nps_surveys.sql), so that demos and tests exercise
// an operator's own table end to end.

// NPSSurveys holds rows of the nps_surveys table.
type NPSSurveys struct {
	SurveyID   []string
	CustomerID []string
	AnsweredAt []time.Time
	Score      []uint8
	Channel    []string
}

// NPSTable is the extra table's name and columns, in NPSSurveys' order.
const NPSTable = "nps_surveys"

func npsColumns() []string {
	return []string{"survey_id", "customer_id", "answered_at", "score", "channel"}
}

// npsStream keys the surveys' own random streams: drawing them never shifts
// the draws of the contract tables, which stay as they were without it.
const npsStream = 0x6e7073 // "nps"

// How surveys are sent and answered: an invitation every 90-150 days, and
// about a third of them answered.
const (
	npsFirstWithin = 120
	npsGapMin      = 90
	npsGapSpread   = 60
	npsAnswerRate  = 0.35
)

// npsChannels are the channels a survey is answered on.
func npsChannels() []string { return []string{"sms", "email", "app", "call"} }

// emitNPS appends customer p's survey answers up to its churn or the end of
// the window. Answers are mostly promoters and passives; they drop while the
// customer's usage fades before a voluntary churn, in the 75 days before one,
// and during and just after a network problem, so that NPS tells something
// about churn that the contract tables also show, but earlier or louder.
func emitNPS(cfg *Config, cal *calendar, p *profile, n *NPSSurveys) {
	r := customerRand(cfg.Seed^npsStream, p.idx)
	stop := min(p.churn, cal.end)
	k := 0
	for d := max(p.signup, 0) + r.IntN(npsFirstWithin); d < stop; d += npsGapMin + r.IntN(npsGapSpread) {
		if r.Float64() >= npsAnswerRate || p.away(d) {
			continue // nobody answers for a line that is gone for now
		}
		score := 7.6 + 1.6*r.NormFloat64()
		if !p.invol && (p.decline.has(d) || (p.churn != noDay && d >= p.churn-75)) {
			score -= 3.5
		}
		for _, e := range p.episodes {
			if d >= e.from && d < e.to+30 {
				score -= 2
				break
			}
		}
		k++
		n.SurveyID = append(n.SurveyID, fmt.Sprintf("%s-N%03d", p.id, k))
		n.CustomerID = append(n.CustomerID, p.id)
		n.AnsweredAt = append(n.AnsweredAt, cal.date(d))
		n.Score = append(n.Score, uint8(math.Round(math.Max(0, math.Min(10, score)))))
		n.Channel = append(n.Channel, npsChannels()[r.IntN(len(npsChannels()))])
	}
}

// LoadNPS generates the survey answers of cfg's customers and inserts them
// into nps_surveys in blocks of about blockRows rows. It returns the rows.
func LoadNPS(ctx context.Context, cfg Config, ins Inserter, blockRows int) (int, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	cal := newCalendar(cfg)
	var n NPSSurveys
	total := 0
	flush := func() error {
		if len(n.SurveyID) == 0 {
			return nil
		}
		if err := ins.InsertColumns(ctx, NPSTable, npsColumns(), []any{n.SurveyID, n.CustomerID, n.AnsweredAt, n.Score, n.Channel}); err != nil {
			return fmt.Errorf("load synthetic %s (%d rows): %w", NPSTable, len(n.SurveyID), err)
		}
		total += len(n.SurveyID)
		n = NPSSurveys{}
		return nil
	}
	for c := range cfg.Customers {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
		_, p := drawCustomer(&cfg, cal, c)
		emitNPS(&cfg, cal, p, &n)
		if len(n.SurveyID) >= blockRows {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	return total, flush()
}
