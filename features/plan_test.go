package features

import (
	"slices"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dates(ss ...string) []time.Time {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = d(s)
	}
	return out
}

func TestPlanSnapshots(t *testing.T) {
	tests := []struct {
		name        string
		spec        PlanSpec
		wantTrain   []time.Time
		wantHoldout time.Time
	}{
		{
			name: "monthly back from the holdout, oldest first",
			spec: PlanSpec{DataStart: d("2023-01-01"), DataEnd: d("2024-01-01"), Count: 3},
			// holdout 2024-01-01 - 30 days
			wantHoldout: d("2023-12-02"),
			wantTrain:   dates("2023-09-02", "2023-10-02", "2023-11-02"),
		},
		{
			name:        "stops where less than 90 days of history remain",
			spec:        PlanSpec{DataStart: d("2023-06-01"), DataEnd: d("2024-01-01"), Count: 12},
			wantHoldout: d("2023-12-02"),
			// 2023-08-30 is the earliest date with 90 days of history
			wantTrain: dates("2023-09-02", "2023-10-02", "2023-11-02"),
		},
		{
			name:        "steps back from a leap day",
			spec:        PlanSpec{DataStart: d("2023-01-01"), DataEnd: d("2024-03-30"), Count: 2},
			wantHoldout: d("2024-02-29"),
			// 2024-01-29 + 30 days = 2024-02-28 fits before the holdout
			wantTrain: dates("2023-12-29", "2024-01-29"),
		},
		{
			name:        "a 28-day February does not fit a 30-day window",
			spec:        PlanSpec{DataStart: d("2023-01-01"), DataEnd: d("2024-03-31"), Count: 2},
			wantHoldout: d("2024-03-01"),
			// 2024-02-01 + 30 = 2024-03-02 > holdout: skipped
			wantTrain: dates("2023-12-01", "2024-01-01"),
		},
		{
			name:        "the 31st stays on month ends",
			spec:        PlanSpec{DataStart: d("2023-01-01"), DataEnd: d("2024-06-30"), Count: 3, Horizon: 30},
			wantHoldout: d("2024-05-31"),
			wantTrain:   dates("2024-02-29", "2024-03-31", "2024-04-30"),
		},
		{
			name:        "a longer horizon moves the holdout back",
			spec:        PlanSpec{DataStart: d("2023-01-01"), DataEnd: d("2024-01-01"), Count: 1, Horizon: 90},
			wantHoldout: d("2023-10-03"),
			wantTrain:   dates("2023-07-03"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := PlanSnapshots(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Holdout.Equal(tt.wantHoldout) {
				t.Errorf("holdout = %s, want %s", s.Holdout.Format(time.DateOnly), tt.wantHoldout.Format(time.DateOnly))
			}
			if !slices.EqualFunc(s.Train, tt.wantTrain, time.Time.Equal) {
				t.Errorf("train = %v, want %v", s.Train, tt.wantTrain)
			}
			h := tt.spec.Horizon
			if h == 0 {
				h = DefaultHorizon
			}
			for _, tr := range s.Train {
				if tr.AddDate(0, 0, h).After(s.Holdout) {
					t.Errorf("training snapshot %s labels past the holdout", tr.Format(time.DateOnly))
				}
			}
		})
	}
}

func TestPlanSnapshotsRejects(t *testing.T) {
	tests := []struct {
		name      string
		spec      PlanSpec
		wantField string
	}{
		{"no data", PlanSpec{Count: 3}, "data"},
		{"no snapshots wanted", PlanSpec{DataStart: d("2023-01-01"), DataEnd: d("2024-01-01")}, "count"},
		{"negative horizon", PlanSpec{DataStart: d("2023-01-01"), DataEnd: d("2024-01-01"), Count: 1, Horizon: -1}, "horizon"},
		{"data shorter than history and horizon", PlanSpec{DataStart: d("2023-11-01"), DataEnd: d("2024-01-01"), Count: 1}, "data"},
		{"room for the holdout only", PlanSpec{DataStart: d("2023-09-01"), DataEnd: d("2024-01-01"), Count: 1}, "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlanSnapshots(tt.spec)
			if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != tt.wantField {
				t.Fatalf("err = %v, want invalid %s", err, tt.wantField)
			}
		})
	}
}

func TestParseHorizon(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"30d", 30, false}, {"30", 30, false}, {" 90D ", 90, false}, {"4w", 28, false},
		{"0d", 0, true}, {"-5d", 0, true}, {"30h", 0, true}, {"", 0, true}, {"d", 0, true}, {"99999d", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseHorizon(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseHorizon(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && churn.ErrorField(err) != "horizon" {
			t.Errorf("ParseHorizon(%q) error does not name the horizon: %v", tt.in, err)
		}
	}
}

func TestParseDateNamesTheField(t *testing.T) {
	if _, err := ParseDate("as-of", "2024-13-01"); churn.ErrorField(err) != "as-of" {
		t.Fatalf("err = %v, want one naming as-of", err)
	}
	got, err := ParseDate("as-of", "2024-02-29")
	if err != nil || !got.Equal(d("2024-02-29")) {
		t.Fatalf("ParseDate = %v, %v", got, err)
	}
}
