package synth

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// npsRecorder is an Inserter that keeps the nps_surveys rows.
type npsRecorder struct {
	rows   NPSSurveys
	blocks int
}

func (r *npsRecorder) InsertColumns(_ context.Context, table string, _ []string, data []any) error {
	if table != NPSTable {
		return nil
	}
	r.blocks++
	r.rows.SurveyID = append(r.rows.SurveyID, data[0].([]string)...)
	r.rows.CustomerID = append(r.rows.CustomerID, data[1].([]string)...)
	r.rows.AnsweredAt = append(r.rows.AnsweredAt, data[2].([]time.Time)...)
	r.rows.Score = append(r.rows.Score, data[3].([]uint8)...)
	r.rows.Channel = append(r.rows.Channel, data[4].([]string)...)
	return nil
}

func TestNPSAnswersComeBeforeChurnAndDropAheadOfIt(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Customers, cfg.Months = 3000, 12
	all, _, err := GenerateAll(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A win-back customer answers again after it came back: judged by its
	// departures alone below, not by its first churn.
	returned := map[string]bool{}
	for _, id := range all.Reactivations.CustomerID {
		returned[id] = true
	}
	churned := map[string]time.Time{}
	for i, id := range all.ChurnEvents.CustomerID {
		if all.ChurnEvents.Kind[i] == "voluntary" && !returned[id] {
			churned[id] = all.ChurnEvents.ChurnedAt[i]
		}
	}
	var rec npsRecorder
	n, err := LoadNPS(context.Background(), cfg, &rec, 1000)
	if err != nil || n != len(rec.rows.SurveyID) || n < 1000 || rec.blocks < 2 {
		t.Fatalf("%d rows, %d recorded in %d blocks, err %v", n, len(rec.rows.SurveyID), rec.blocks, err)
	}
	seen := map[string]bool{}
	var near, far []float64
	for i, id := range rec.rows.SurveyID {
		if seen[id] {
			t.Fatalf("survey id %s twice", id)
		}
		seen[id] = true
		at, c := rec.rows.AnsweredAt[i], rec.rows.CustomerID[i]
		if rec.rows.Score[i] > 10 {
			t.Fatalf("score %d", rec.rows.Score[i])
		}
		if ch, ok := churned[c]; ok {
			if !at.Before(ch) {
				t.Fatalf("customer %s answered on %s, after churning on %s", c, at, ch)
			}
			if ch.Sub(at) <= 60*24*time.Hour {
				near = append(near, float64(rec.rows.Score[i]))
				continue
			}
		}
		far = append(far, float64(rec.rows.Score[i]))
	}
	if len(near) < 30 || avg(near) > avg(far)-2 {
		t.Fatalf("answers in the 60 days before a voluntary churn average %.2f (%d), others %.2f (%d): want at least 2 points lower",
			avg(near), len(near), avg(far), len(far))
	}

	// The same seed gives the same answers.
	var again npsRecorder
	if _, err := LoadNPS(context.Background(), cfg, &again, 1000); err != nil || !reflect.DeepEqual(rec.rows, again.rows) {
		t.Fatalf("a second load differs (%v)", err)
	}
}

func avg(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
