package synth

import (
	"fmt"
	"math"
	"testing"

	"github.com/telcoretain/churn"
)

func TestRetentionEffectAnswersAtItsRatesAndRepeats(t *testing.T) {
	e := DefaultRetentionEffect(7)
	const n = 50_000
	for _, kind := range []string{"specialist_call", "sms"} {
		counts := map[string]int{}
		saved := 0
		for i := range n {
			id := fmt.Sprintf("a%06d", i)
			ans := e.Answer(id, kind)
			if ans != e.Answer(id, kind) {
				t.Fatalf("%s: the answer changed between calls", id)
			}
			counts[ans]++
			if e.Saves(id, kind) {
				saved++
			}
		}
		wantAccept := (1 - e.Unreachable) * e.AcceptRates[kind]
		if got := float64(counts["accepted"]) / n; math.Abs(got-wantAccept) > 0.01 {
			t.Errorf("%s: accepted %.3f, want %.3f", kind, got, wantAccept)
		}
		if got := float64(counts["unreachable"]) / n; math.Abs(got-e.Unreachable) > 0.01 {
			t.Errorf("%s: unreachable %.3f, want %.3f", kind, got, e.Unreachable)
		}
		if got := float64(saved) / n; math.Abs(got-e.SaveRates[kind]) > 0.01 {
			t.Errorf("%s: saved %.3f, want %.3f", kind, got, e.SaveRates[kind])
		}
	}
	other := DefaultRetentionEffect(8)
	same := 0
	for i := range 1000 {
		id := fmt.Sprint(i)
		if e.Saves(id, "sms") == other.Saves(id, "sms") {
			same++
		}
	}
	if same > 900 {
		t.Errorf("seeds 7 and 8 agree on %d of 1000 saves", same)
	}
}

func TestRetentionEffectRejectsRatesOutsideZeroToOne(t *testing.T) {
	e := DefaultRetentionEffect(1)
	e.SaveRates["sms"] = 1.5
	if err := e.Validate(); churn.ErrorField(err) != "save_rate.sms" {
		t.Fatalf("err %v", err)
	}
	if err := DefaultRetentionEffect(1).Validate(); err != nil {
		t.Fatal(err)
	}
}
