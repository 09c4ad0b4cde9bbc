package clickhouse_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestTopUpsOfAKeptPrepaidCustomerEndTheSilenceThatMadeThemAChurner(t *testing.T) {
	c, _ := chtest.NewDB(t)
	lifecycleData().insert(t, c)
	ctx := context.Background()
	prepaid, err := c.PrepaidAmong(ctx, []string{"p2", "w3", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(prepaid) != 1 || !prepaid["p2"] {
		t.Fatalf("prepaid among p2, w3, nobody: %v, want p2 alone", prepaid)
	}
	from, to := day(t, "2024-06-01"), day(t, "2024-07-01")
	if err := c.AddSyntheticTopups(ctx, []string{"p2"}, from.AddDate(0, 0, 1), day(t, "2024-09-01"), 30, 10); err != nil {
		t.Fatal(err)
	}
	got, err := c.ChurnedBetween(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["p2"]; ok {
		t.Errorf("p2 still churned in June after monthly top-ups: %v", got)
	}
	if _, ok := got["w3"]; !ok {
		t.Errorf("w3 (postpaid, not kept) no longer churned: %v", got)
	}
	var n uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM topups WHERE customer_id = 'p2' AND startsWith(topup_id, 'synthetic-')").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 4 { // 06-02, 07-02, 08-01, 08-31: every 30 days up to the data's end
		t.Errorf("%d synthetic top-ups, want 4", n)
	}
}

// A retention cycle at a million subscribers names some 100,000 customers:
// more than ClickHouse takes in one query's text (max_query_size, 256 KiB),
// since the driver writes an array parameter into it.
func TestTheSyntheticEffectTakesACycleOfAHundredThousandCustomers(t *testing.T) {
	c, _ := chtest.NewDB(t)
	lifecycleData().insert(t, c)
	ctx := context.Background()
	ids := []string{"p2", "w3"}
	for i := range 100_000 {
		ids = append(ids, fmt.Sprintf("C%08d", i))
	}
	prepaid, err := c.PrepaidAmong(ctx, ids)
	if err != nil || len(prepaid) != 1 || !prepaid["p2"] {
		t.Fatalf("prepaid among %d customers: %v %v, want p2 alone", len(ids), prepaid, err)
	}
	from, to := day(t, "2024-06-01"), day(t, "2024-07-01")
	before, err := c.ChurnedBetween(ctx, from, to)
	if err != nil || before["w3"].IsZero() {
		t.Fatalf("w3 churned in June: %v %v", before, err)
	}
	if err := c.DeleteChurnEvents(ctx, ids, from, to); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ChurnedBetween(ctx, from, to); err != nil || !got["w3"].IsZero() {
		t.Fatalf("after deleting the churn events of %d customers w3 still churned: %v %v", len(ids), got, err)
	}
}
