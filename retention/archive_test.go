package retention

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/clocktest"
)

func dayNumber(cycle string) int32 {
	d, err := CycleDate(cycle)
	if err != nil {
		panic(err)
	}
	return int32(d.Unix() / 86400)
}

func TestArchivingACycleTakesItsClosedActionsOutAndKeepsTheirContacts(t *testing.T) {
	ctx := context.Background()
	log := &memLog{}
	clk := clocktest.New(time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC))
	q := NewQueue(log, QueueOptions{Now: clk.Now})
	act := func(id, cycle string, kind churn.ActionKind) churn.Action {
		return churn.Action{ID: id, CustomerID: "c" + id, Cycle: cycle, Kind: kind, Rule: "r", Priority: 1}
	}
	const june, july = "2025-06-01", "2025-07-01"
	queued := []churn.Action{
		act("done", june, churn.ActionSpecialistCall), act("failed", june, churn.ActionOffer),
		act("cancelled", june, churn.ActionOffer), act("open", june, churn.ActionOffer),
		act("claimed", june, churn.ActionOffer), act("sms", june, churn.ActionSMS), act("later", july, churn.ActionOffer),
	}
	control := []churn.Action{act("held", june, churn.ActionOffer)}
	if _, err := q.Enqueue(ctx, "test", queued, control); err != nil {
		t.Fatal(err)
	}
	must := func(_ churn.Action, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if as, err := q.ClaimCycle(ctx, "ann", "test", 10, june); err != nil || len(as) != 5 {
		t.Fatalf("claimed %d, %v", len(as), err)
	}
	must(q.Complete(ctx, "done", "ann", OutcomeAccepted, "", "test"))
	must(q.Complete(ctx, "failed", "ann", OutcomeUnreachable, "", "test"))
	must(q.Cancel(ctx, "cancelled", "ann", "", "test"))
	must(q.Cancel(ctx, "open", "ann", "", "test"))
	if _, err := q.RecordDeliveries(ctx, "dispatch", []Delivery{{ActionID: "sms", Result: Delivered, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	// "claimed" stays claimed (open); "later" is July's.

	got, err := q.ArchiveCycles(ctx, "job:outcomes", []string{june, june})
	if err != nil || !slices.Equal(got, []string{june}) {
		t.Fatalf("archived %v, %v", got, err)
	}
	ids := func() []string {
		as, err := q.Actions()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"claimed", "later"}) {
		t.Fatalf("actions left after archiving June: %v, want the open claim and July's", got)
	}
	arch, err := q.Archive()
	if err != nil {
		t.Fatal(err)
	}
	// Contacts: reached or tried (done, failed, the delivered sms), not the
	// cancelled nor the held-out customers.
	want := map[string][]int32{"cdone": {dayNumber(june)}, "cfailed": {dayNumber(june)}, "csms": {dayNumber(june)}}
	if !reflect.DeepEqual(arch.Contacts, want) || !arch.Cycles[june] || arch.Cycles[july] {
		t.Fatalf("archive %+v, want contacts %v and June only", arch, want)
	}

	// The open claim leaves when it closes, and its contact counts.
	must(q.Complete(ctx, "claimed", "ann", OutcomeDeclined, "", "test"))
	if got := ids(); !slices.Equal(got, []string{"later"}) {
		t.Fatalf("actions after the last June action closed: %v", got)
	}
	if arch, _ := q.Archive(); len(arch.Contacts["cclaimed"]) != 1 {
		t.Fatalf("contacts of the claim closed after archiving: %v", arch.Contacts)
	}
	// What the caller got before is its own.
	if len(arch.Contacts) != 3 {
		t.Fatalf("an Archive returned earlier changed: %v", arch.Contacts)
	}

	// The archived cycle takes nothing new; an answer to an evicted message
	// says where its action went.
	if _, err := q.Enqueue(ctx, "test", []churn.Action{act("new", june, churn.ActionOffer)}, nil); churn.ErrorKind(err) != churn.KindConflict ||
		!strings.Contains(err.Error(), "cycle 2025-06-01 is archived") {
		t.Fatalf("enqueue into an archived cycle: %v", err)
	}
	if _, _, err := q.Add(ctx, "test", act("manual", june, churn.ActionOffer)); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("add to an archived cycle: %v", err)
	}
	if _, err := q.Answer(ctx, "sms", OutcomeAccepted, "", "test"); churn.ErrorKind(err) != churn.KindNotFound ||
		!strings.Contains(err.Error(), "archived cycles") {
		t.Fatalf("answer to an archived message: %v", err)
	}
	if got, err := q.ArchiveCycles(ctx, "job:outcomes", []string{june}); err != nil || got != nil {
		t.Fatalf("archiving June again: %v, %v", got, err)
	}
	if _, err := q.ArchiveCycles(ctx, "job:outcomes", []string{"June"}); churn.ErrorKind(err) != churn.KindInvalid ||
		!strings.Contains(err.Error(), "cycles[0]") {
		t.Fatalf("archiving a cycle that is no date: %v", err)
	}
	if !q.Archived(june) || q.Archived(july) {
		t.Fatal("Archived disagrees with the archive")
	}

	// A replay of the log rebuilds the same queue.
	again := NewQueue(log, QueueOptions{Now: clk.Now})
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	sameState(t, "replay", again, q)
}

func TestWithContactKeepsDaysInOrderAndForgetsThoseNoRuleReaches(t *testing.T) {
	var days []int32
	for _, d := range []int32{100, 40, 70, 70} {
		days = withContact(days, d)
	}
	if !slices.Equal(days, []int32{40, 70, 70, 100}) {
		t.Fatalf("days %v", days)
	}
	shared := days
	days = withContact(days, 40+MaxContactDays) // 40 is now out of reach, 70 not
	if !slices.Equal(days, []int32{70, 70, 100, 40 + MaxContactDays}) {
		t.Fatalf("days after a contact %d days on: %v", MaxContactDays, days)
	}
	if !slices.Equal(shared, []int32{40, 70, 70, 100}) {
		t.Fatalf("withContact changed the slice it was given: %v", shared)
	}
}

// TestPlansAfterArchivingAreThePlansBefore plans a later cycle from the
// queue as it was before its older cycles were archived (every action in
// memory) and after (their contacts only): the contact rules must decide
// alike, so the plans are the same.
func TestPlansAfterArchivingAreThePlansBefore(t *testing.T) {
	ctx := context.Background()
	pol := testPolicy(t, "")
	cycles := []string{"2025-01-01", "2025-02-15", "2025-03-01", "2025-04-10", "2025-05-01"}
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		clk := clocktest.New(time.Date(2025, 5, 2, 9, 0, 0, 0, time.UTC))
		q := NewQueue(&memLog{}, QueueOptions{Now: clk.Now})
		scores := make([]churn.Score, 60)
		for i := range scores {
			scores[i] = score(fmt.Sprintf("c%02d", i), []churn.ValueTier{"A", "B", "C"}[rng.IntN(3)],
				[]churn.RiskBand{"high", "medium"}[rng.IntN(2)], 0.2+0.7*rng.Float64(), 100+5000*rng.Float64())
		}
		for _, cycle := range cycles[:4] {
			pl := &Planner{Policy: pol, Now: clk.Now}
			pol.ControlShare = 0.2
			existing, _ := q.Actions()
			plan, err := pl.Plan(cycle, "run-"+cycle, scores, existing)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.Enqueue(ctx, "test", plan.Actions, plan.Control); err != nil {
				t.Fatal(err)
			}
			// agents work most of the cycle, in all the ways it can end
			if _, err := q.ClaimCycle(ctx, "ann", "test", len(plan.Actions), cycle); err != nil {
				t.Fatal(err)
			}
			for _, a := range plan.Actions {
				var err error
				if a.Kind.Automated() {
					res := []DeliveryResult{Delivered, DeadLettered, DeliveryFailed}[rng.IntN(3)]
					_, err = q.RecordDeliveries(ctx, "dispatch", []Delivery{{ActionID: a.ID, Result: res, Attempts: 1}})
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				switch rng.IntN(5) {
				case 0:
					_, err = q.Complete(ctx, a.ID, "ann", OutcomeAccepted, "", "test")
				case 1:
					_, err = q.Complete(ctx, a.ID, "ann", OutcomeUnreachable, "", "test")
				case 2:
					_, err = q.Cancel(ctx, a.ID, "ann", "", "test")
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		plan := func(cycle string) *Plan {
			existing, err := q.Actions()
			if err != nil {
				t.Fatal(err)
			}
			arch, err := q.Archive()
			if err != nil {
				t.Fatal(err)
			}
			p, err := (&Planner{Policy: pol, Now: clk.Now, Archive: arch}).Plan(cycle, "run-"+cycle, scores, existing)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		before := plan(cycles[4])
		n := 1 + rng.IntN(3)
		if _, err := q.ArchiveCycles(ctx, "test", cycles[:n]); err != nil {
			t.Fatal(err)
		}
		if arch, _ := q.Archive(); len(arch.Contacts) == 0 {
			t.Fatalf("seed %d: archiving %v kept no contacts", seed, cycles[:n])
		}
		after := plan(cycles[4])
		if !reflect.DeepEqual(before.Actions, after.Actions) || !reflect.DeepEqual(before.Skipped, after.Skipped) {
			t.Fatalf("seed %d, %d cycles archived: plan before\n%v %v\nafter\n%v %v", seed, n,
				before.Skipped, len(before.Actions), after.Skipped, len(after.Actions))
		}
		if before.Skipped[SkipCooldown]+before.Skipped[SkipContactLimit] == 0 {
			t.Fatalf("seed %d: no contact rule stopped anyone; the test proves nothing", seed)
		}
		arch, _ := q.Archive()
		if _, err := (&Planner{Policy: pol, Archive: arch}).Plan(cycles[0], "run", scores, nil); churn.ErrorKind(err) != churn.KindConflict ||
			!strings.Contains(err.Error(), "archived") {
			t.Fatalf("planning an archived cycle again: %v", err)
		}
	}
}

// discardLog takes events and keeps none: the queue's memory alone is
// measured.
type discardLog struct{}

func (discardLog) AppendActionEvents(context.Context, []churn.ActionEvent) error { return nil }
func (discardLog) ActionEvents(context.Context, time.Time) ([]churn.ActionEvent, error) {
	return nil, nil
}
func (discardLog) ScanActionEvents(context.Context, string, string, func(churn.ActionEvent) error) error {
	return nil
}

// BenchmarkQueueYearOfCycles runs a year of monthly cycles of 20,000
// actions each (the default budget at a million customers) through a
// queue: planned, claimed by agents or delivered, and closed. It reports
// the queue's heap after four cycles and after twelve, without archiving
// and with cycles archived 90 days after their date (the default policy;
// the outcomes job labels a cycle after its horizon and the prepaid
// silence, about as long).
func BenchmarkQueueYearOfCycles(b *testing.B) {
	const (
		perCycle  = 20_000
		cycles    = 12
		customers = 1_000_000
		keep      = 3 // months a cycle stays before it is archived
	)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	kinds := []churn.ActionKind{churn.ActionSpecialistCall, churn.ActionOffer, churn.ActionEmail, churn.ActionSMS}
	run := func(archive bool) (after4, after12 uint64, contacts int) {
		ctx := context.Background()
		clk := clocktest.New(time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC))
		base := heap()
		q := NewQueue(discardLog{}, QueueOptions{Now: clk.Now})
		if err := q.Load(ctx); err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for m := range cycles {
			day := time.Date(2025, time.Month(1+m), 1, 0, 0, 0, 0, time.UTC)
			clk.Set(day.Add(8 * time.Hour))
			cycle := Cycle(day)
			as := make([]churn.Action, perCycle)
			for i := range as {
				cust := fmt.Sprintf("C%07d", rng.IntN(customers))
				kind := kinds[rng.IntN(len(kinds))]
				as[i] = churn.Action{ID: ActionID(cust, cycle, string(kind)), CustomerID: cust, Cycle: cycle, Kind: kind,
					Offer: "loyalty_discount_10", Channel: "phone", Cost: 12.5, Priority: 1 + rng.IntN(5), Value: rng.Float64() * 100,
					RunID: fmt.Sprintf("r%019d", day.UnixNano()), Rule: "b-high-price", Tier: churn.TierB, Band: churn.RiskHigh,
					Reason: ReasonPrice, Probability: rng.Float64(), LifetimeValue: rng.Float64() * 2000}
			}
			if _, err := q.Enqueue(ctx, "job:actions", as, nil); err != nil {
				b.Fatal(err)
			}
			var ds []Delivery
			for _, a := range as {
				if a.Kind.Automated() {
					ds = append(ds, Delivery{ActionID: a.ID, Result: Delivered, Attempts: 1, Detail: "delivered in file 2025-01-01.csv"})
				}
			}
			if _, err := q.RecordDeliveries(ctx, "dispatch", ds); err != nil {
				b.Fatal(err)
			}
			for {
				clk.Add(time.Minute) // lets the queue forget old event ids, as time does
				claimed, err := q.ClaimCycle(ctx, "agent", "agent", 1000, cycle)
				if err != nil {
					b.Fatal(err)
				}
				if len(claimed) == 0 {
					break
				}
				for _, a := range claimed {
					if _, err := q.Complete(ctx, a.ID, "agent", OutcomeDeclined, "called, not interested", "agent"); err != nil {
						b.Fatal(err)
					}
				}
			}
			if archive && m >= keep {
				if _, err := q.ArchiveCycles(ctx, "job:outcomes", []string{Cycle(day.AddDate(0, -keep, 0))}); err != nil {
					b.Fatal(err)
				}
			}
			if m == 3 {
				after4 = heap() - base
			}
		}
		after12 = heap() - base
		arch, err := q.Archive()
		if err != nil {
			b.Fatal(err)
		}
		runtime.KeepAlive(q)
		return after4, after12, len(arch.Contacts)
	}
	for b.Loop() {
		all4, all12, _ := run(false)
		arch4, arch12, contacts := run(true)
		const mib = 1 << 20
		b.ReportMetric(float64(all4)/mib, "all-4-MiB")
		b.ReportMetric(float64(all12)/mib, "all-12-MiB")
		b.ReportMetric(float64(arch4)/mib, "archived-4-MiB")
		b.ReportMetric(float64(arch12)/mib, "archived-12-MiB")
		b.ReportMetric(float64(arch12)/float64(all12), "archived-12/all-12")
		b.ReportMetric(float64(contacts), "contacted-customers")
	}
}

// TestAPlanLandingAfterItsCycleWasArchivedFoldsAsInAReplay: a plan run
// from the CLI stamps its events before it writes them, so they can land
// after an archive event stamped later. The live queue folds them in
// landing order, a replay in id order; both must end alike.
func TestAPlanLandingAfterItsCycleWasArchivedFoldsAsInAReplay(t *testing.T) {
	const cycle = "2025-06-01"
	at := time.Date(2025, 9, 1, 6, 0, 0, 0, time.UTC)
	ev := func(n int, typ churn.ActionStatus, a churn.Action) churn.ActionEvent {
		t := at.Add(time.Duration(n) * time.Second)
		return churn.ActionEvent{ID: fmt.Sprintf("e%019d-x", t.UnixNano()), Type: typ, At: t, Action: a}
	}
	done := churn.Action{ID: "a1", CustomerID: "c1", Cycle: cycle, Kind: churn.ActionOffer, Rule: "r"}
	late := churn.Action{ID: "a2", CustomerID: "c2", Cycle: cycle, Kind: churn.ActionOffer, Rule: "r"}
	held := churn.Action{ID: "a3", CustomerID: "c3", Cycle: cycle, Kind: churn.ActionOffer, Rule: "r"}
	claimed := done
	claimed.Agent, claimed.LeaseUntil = "ann", at.Add(time.Hour)
	evs := []churn.ActionEvent{
		ev(0, churn.ActionQueued, done), ev(1, churn.ActionClaimed, claimed), ev(2, churn.ActionDone, claimed),
		ev(3, churn.ActionQueued, late), ev(4, churn.ActionControl, held), // the late plan
		ev(5, churn.ActionArchived, churn.Action{Cycle: cycle}),
	}
	replay, live := newState(), newState()
	for _, e := range evs {
		replay.apply(e)
	}
	for _, i := range []int{0, 1, 2, 5, 3, 4} { // the plan lands after the archive
		live.apply(evs[i])
	}
	for _, s := range []*state{replay, live} {
		if len(s.actions) != 1 || s.actions["a2"] == nil || !reflect.DeepEqual(s.contacts, map[string][]int32{"c1": {dayNumber(cycle)}}) {
			t.Fatalf("state: actions %v, contacts %v; want the late plan's open action only and c1's contact", s.actions, s.contacts)
		}
	}
	if !reflect.DeepEqual(*replay.actions["a2"], *live.actions["a2"]) {
		t.Fatalf("the late action differs:\nreplay %+v\nlive   %+v", *replay.actions["a2"], *live.actions["a2"])
	}
}
