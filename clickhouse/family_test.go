package clickhouse_test

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/features"
)

// loadNPSExample creates the example family's table from its shipped DDL
// and loads its shipped example rows.
func loadNPSExample(t *testing.T, c *clickhouse.Client) {
	t.Helper()
	ctx := context.Background()
	ddl, err := os.ReadFile("../features/examples/tables/nps_surveys.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Conn().Exec(ctx, string(ddl)); err != nil {
		t.Fatalf("create nps_surveys: %v", err)
	}
	f, err := os.Open("../features/examples/tables/nps_surveys.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var ids, customers, channels []string
	var days []time.Time
	var scores []uint8
	for _, r := range recs[1:] {
		n, err := strconv.Atoi(r[3])
		if err != nil {
			t.Fatal(err)
		}
		ids, customers, channels = append(ids, r[0]), append(customers, r[1]), append(channels, r[4])
		days, scores = append(days, day(t, r[2])), append(scores, uint8(n))
	}
	if err := c.InsertColumns(ctx, "nps_surveys", strings.Split(recs[0][0]+","+strings.Join(recs[0][1:], ","), ","),
		[]any{ids, customers, days, scores, channels}); err != nil {
		t.Fatal(err)
	}
}

func exampleFamily(t *testing.T) features.Family {
	t.Helper()
	fams, err := features.LoadFamilies("../features/examples")
	if err != nil || len(fams) != 1 {
		t.Fatalf("example families %v, %v", fams, err)
	}
	return fams[0]
}

func TestExampleNPSFamilyJoinsTheSnapshotPointInTime(t *testing.T) {
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	loadNPSExample(t, c)
	fam := exampleFamily(t)

	s := computeAt(t, c, features.Spec{Operator: features.Operator{Families: []features.Family{fam}}})
	nan := math.NaN()
	want := map[string][4]float64{ // nps_last, nps_min_365d, nps_detractor_365d, days_since_nps
		"c1": {3, 3, 1, 60}, // the answer of 10 on the as-of date does not count
		"c2": {9, 9, 0, 12},
		"c5": {6, nan, 0, 477},
		"c7": {nan, nan, nan, nan}, // answered only after the as-of date
		"c8": {nan, nan, nan, nan},
	}
	names := []string{"nps_last", "nps_min_365d", "nps_detractor_365d", "days_since_nps"}
	for id, vals := range want {
		row := s.Row(id)
		for j, name := range names {
			got := float64(s.Matrix.Col(name)[row])
			if got != vals[j] && !(math.IsNaN(got) && math.IsNaN(vals[j])) {
				t.Errorf("%s of %s = %v, want %v", name, id, got, vals[j])
			}
		}
	}
}

func TestFeaturesCheckPassesThePointInTimeFamilyAndCatchesALeak(t *testing.T) {
	ctx := context.Background()
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	loadNPSExample(t, c)
	fam := exampleFamily(t)
	at := day(t, asOf)

	check := func(f features.Family) *features.LeakCheck {
		t.Helper()
		sb, err := c.NewSandbox(ctx, f.Tables, 1000)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := sb.Drop(ctx); err != nil {
				t.Errorf("drop sandbox: %v", err)
			}
		}()
		res, err := features.CheckFamily(ctx, sb, f, at)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := check(fam)
	if res.Leak != nil || res.Added != 18 || res.Customers != 3 {
		t.Fatalf("point-in-time family: leak %v, %d rows added, %d customers; want none, 18 (6 rows x 3 dates), 3", res.Leak, res.Added, res.Customers)
	}

	leaky := fam
	leaky.SQL = strings.Replace(fam.SQL, "WHERE answered_at < t", "WHERE answered_at <= t", 1)
	if leaky.SQL == fam.SQL {
		t.Fatal("the example family changed: update the leaky variant")
	}
	res = check(leaky)
	if res.Leak == nil || res.Leak.Customer == "" || res.Leak.Feature == "" || res.Leak.Before == res.Leak.After {
		t.Fatalf("leaky family: %+v, want a leak naming the feature and the customer", res.Leak)
	}
}
