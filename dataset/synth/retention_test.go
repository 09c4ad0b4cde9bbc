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
		for i := range n {
			id := fmt.Sprintf("a%06d", i)
			ans := e.Answer(id, kind)
			if ans != e.Answer(id, kind) {
				t.Fatalf("%s: the answer changed between calls", id)
			}
			counts[ans]++
		}
		wantAccept := (1 - e.Unreachable) * e.AcceptRates[kind]
		if got := float64(counts["accepted"]) / n; math.Abs(got-wantAccept) > 0.01 {
			t.Errorf("%s: accepted %.3f, want %.3f", kind, got, wantAccept)
		}
		if got := float64(counts["unreachable"]) / n; math.Abs(got-e.Unreachable) > 0.01 {
			t.Errorf("%s: unreachable %.3f, want %.3f", kind, got, e.Unreachable)
		}
	}
}

func TestRetentionEffectSavesDependOnWhyTheCustomerWasLeaving(t *testing.T) {
	e := DefaultRetentionEffect(7)
	const n = 50_000
	share := func(kind, reason string) float64 {
		k := 0
		for i := range n {
			if e.Saves(fmt.Sprintf("a%06d", i), kind, reason) {
				k++
			}
		}
		return float64(k) / n
	}
	for _, c := range []struct {
		kind, reason string
		want         float64
	}{
		{"offer", "price", 0.85}, {"offer", "service", 0.05}, {"offer", SilenceReason, 0.6},
		{"specialist_call", "service", 0.8}, {"specialist_call", "moved", 0.05},
		{"sms", "price", 0.02},
	} {
		if got := share(c.kind, c.reason); math.Abs(got-c.want) > 0.01 {
			t.Errorf("%s keeps %.3f of %s churners, want %.3f", c.kind, got, c.reason, c.want)
		}
	}
	other := DefaultRetentionEffect(8)
	same := 0
	for i := range 1000 {
		id := fmt.Sprint(i)
		if e.Saves(id, "offer", "competitor") == other.Saves(id, "offer", "competitor") {
			same++
		}
	}
	if same > 900 {
		t.Errorf("seeds 7 and 8 agree on %d of 1000 saves", same)
	}
}

func TestRetentionEffectWakesOnlyLowRiskCustomersMessaged(t *testing.T) {
	e := DefaultRetentionEffect(3)
	const n = 50_000
	woken := map[string]int{}
	for i := range n {
		id := fmt.Sprintf("a%06d", i)
		for _, kind := range []string{"sms", "offer"} {
			if e.Wakes(id, kind, 0.05) {
				woken[kind]++
			}
			if e.Wakes(id, kind, 0.5) {
				t.Fatalf("%s woke a high-risk customer", kind)
			}
		}
		if d := e.WakeDay(id, 30); d < 0 || d >= 30 {
			t.Fatalf("wake day %d outside the horizon", d)
		}
	}
	if got := float64(woken["sms"]) / n; math.Abs(got-e.SleepingDogs["sms"]) > 0.005 {
		t.Errorf("sms woke %.3f, want %.3f", got, e.SleepingDogs["sms"])
	}
	if woken["offer"] != 0 {
		t.Errorf("offers woke %d customers, want none", woken["offer"])
	}
}

func TestRetentionEffectRejectsRatesOutsideZeroToOne(t *testing.T) {
	e := DefaultRetentionEffect(1)
	e.SaveRates["sms"]["price"] = 1.5
	if err := e.Validate(); churn.ErrorField(err) != "save_rate.sms/price" {
		t.Fatalf("err %v", err)
	}
	if err := DefaultRetentionEffect(1).Validate(); err != nil {
		t.Fatal(err)
	}
}
