package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// sqlStatements cuts a SQL file into statements at semicolons that end a
// line, without comment lines.
func sqlStatements(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if s := strings.TrimSpace(line); s == "" || strings.HasPrefix(s, "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	return out
}

// operatorCopies fill the operator's tables (docs/examples/operator-tables.sql)
// from a seeded contract database, converting to the operator's units.
var operatorCopies = []string{
	`INSERT INTO crm_subscribers (subscriber_ref, activated_at, area, segment_code, pay_channel, prepaid)
	 SELECT customer_id, toDateTime(signup_date), region, transform(segment, ['consumer', 'business'], [1, 2], 0),
	        transform(payment_method, ['direct_debit', 'credit_card', 'bank_transfer', 'cash'], ['DD', 'CARD', 'BANK', 'CASH'], ''),
	        billing = 'prepaid'
	 FROM SRC.customers`,
	`INSERT INTO recharges (recharge_no, subscriber_ref, recharged, value_cents)
	 SELECT topup_id, customer_id, toDateTime(topped_up_at), toInt64(round(amount * 100)) FROM SRC.topups`,
	`INSERT INTO commitments (subscriber_ref, from_date, until_date) SELECT customer_id, started_at, ends_at FROM SRC.contract_terms`,
	`INSERT INTO reconnections (subscriber_ref, reconnected_on) SELECT customer_id, reactivated_at FROM SRC.reactivations`,
	`INSERT INTO tariff_history (subscriber_ref, valid_from, tariff, term_months, fee_cents)
	 SELECT customer_id, toDateTime(changed_at), plan, transform(contract, ['month_to_month', 'one_year', 'two_year'], [0, 12, 24], 0),
	        toUInt32(round(monthly_fee * 100)) FROM SRC.plan_changes`,
	`INSERT INTO cdr_daily (subscriber_ref, call_date, voice_seconds, data_kb, sms_count, call_count, intl_seconds, roaming_seconds, dropped)
	 SELECT customer_id, day, voice_minutes * 60, data_mb * 1024, sms, calls, intl_minutes * 60, roaming_minutes * 60, dropped_calls
	 FROM SRC.usage_daily`,
	`INSERT INTO bills (bill_no, subscriber_ref, bill_date, due, total_cents)
	 SELECT invoice_id, customer_id, issued_at, due_date, toInt64(round(amount * 100)) FROM SRC.invoices`,
	`INSERT INTO bill_payments (bill_no, subscriber_ref, paid_on, paid_cents)
	 SELECT invoice_id, customer_id, toDateTime(paid_at), toInt64(round(amount * 100)) FROM SRC.payments`,
	`INSERT INTO care_cases (case_no, subscriber_ref, created, topic, closed, csat)
	 SELECT ticket_id, customer_id, opened_at, category, resolved_at, satisfaction FROM SRC.support_tickets`,
	`INSERT INTO disconnections (subscriber_ref, disconnected_on, cause, voluntary)
	 SELECT customer_id, churned_at, reason, kind = 'voluntary' FROM SRC.churn_events`,
}

func TestOperatorTablesMappedWithViewsTrainAndScore(t *testing.T) {
	ctx := context.Background()
	src, srcCfg := chtest.NewDB(t)
	flags := func(cfg clickhouse.Config) []string {
		return []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	}
	if _, errOut, code := run(t, append([]string{"seed", "--customers", "800", "--months", "10", "--seed", "3"}, flags(srcCfg)...)...); code != 0 {
		t.Fatalf("seed: exit %d: %s", code, errOut)
	}

	// The operator's database, in its own shape.
	opCfg := srcCfg
	opCfg.Database = srcCfg.Database + "_operator"
	if err := src.Conn().Exec(ctx, "CREATE DATABASE "+opCfg.Database); err != nil {
		t.Fatal(err)
	}
	op, err := clickhouse.Open(ctx, opCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := op.DropDatabase(context.Background()); err != nil {
			t.Logf("drop %s: %v", opCfg.Database, err)
		}
		op.Close()
	})
	docs := filepath.Join(repo, "docs", "examples")
	for _, q := range sqlStatements(t, filepath.Join(docs, "operator-tables.sql")) {
		if err := op.Conn().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range operatorCopies {
		if err := op.Conn().Exec(ctx, strings.ReplaceAll(q, "SRC.", srcCfg.Database+".")); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// A churn database whose input tables are the documented views.
	mapped, mappedCfg := chtest.NewDB(t)
	for _, q := range sqlStatements(t, filepath.Join(docs, "operator-views.sql")) {
		if err := mapped.Conn().Exec(ctx, strings.ReplaceAll(q, "operator.", opCfg.Database+".")); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var views uint64
	if err := mapped.Conn().QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND engine = 'View'", mappedCfg.Database).Scan(&views); err != nil || views != 11 {
		t.Fatalf("%d views (%v), want the 10 input tables and the usage rollup", views, err)
	}

	// The same features through the views as from the contract tables.
	dir := t.TempDir()
	for _, c := range []struct {
		cfg  clickhouse.Config
		file string
	}{{srcCfg, "contract.csv"}, {mappedCfg, "views.csv"}} {
		if _, errOut, code := run(t, append([]string{"features", "--as-of", "2024-07-01", "--out", filepath.Join(dir, c.file)}, flags(c.cfg)...)...); code != 0 {
			t.Fatalf("features on %s: exit %d: %s", c.cfg.Database, code, errOut)
		}
	}
	want, got := readCSV(t, filepath.Join(dir, "contract.csv")), readCSV(t, filepath.Join(dir, "views.csv"))
	if len(want) != len(got) || len(want) < 100 {
		t.Fatalf("%d rows through the views, %d from the contract tables", len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if !sameCell(want[i][j], got[i][j]) {
				t.Fatalf("row %d (%s), %s: %q through the views, %q from the contract tables", i, want[i][0], want[0][j], got[i][j], want[i][j])
			}
		}
	}

	// Training and scoring run on the views.
	for _, step := range [][]string{{"train", "--seed", "5"}, {"score"}} {
		if _, errOut, code := run(t, append(step, flags(mappedCfg)...)...); code != 0 {
			t.Fatalf("%s on the views: exit %d: %s", step[0], code, errOut)
		}
	}
	var scored uint64
	if err := mapped.Conn().QueryRow(ctx, "SELECT count() FROM scores").Scan(&scored); err != nil || scored < 100 {
		t.Fatalf("%d scores written on the views (%v)", scored, err)
	}
}

// sameCell compares two CSV cells: numbers to a relative 1e-5 (cents and
// unit conversions round), anything else exactly.
func sameCell(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && math.Abs(x-y) <= 1e-5*math.Max(1, math.Abs(x))
}
