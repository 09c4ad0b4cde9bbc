package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportTakesTheOperatorVocabularyAndRefusesOtherValues(t *testing.T) {
	_, cfg := chtest.NewDB(t)
	db := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	dir := t.TempDir()
	voc := writeFile(t, dir, "vocabulary.yaml", "customers:\n  segment:\n    consumer: [residential]\n    business: [sme]\n  payment_method:\n    credit_card: [card, wallet]\n")
	bad := writeFile(t, dir, "customers.csv", "customer_id,signup_date,region,segment,payment_method\n"+
		"C1,2024-01-02,north,sme,wallet\nC2,2024-01-03,north,xyz,card\n")
	_, errOut, code := run(t, append([]string{"import", "--vocabulary", voc, "--table", "customers", "--csv", bad}, db...)...)
	want := bad + `:3: segment: "xyz" is not one of residential, sme; add it to ` + voc
	if code == 0 || !strings.Contains(errOut, want+"\n") {
		t.Fatalf("exit %d, stderr:\n%s\nwant the line %s", code, errOut, want)
	}
	c, err := clickhouse.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	count := func() uint64 {
		var n uint64
		if err := c.Conn().QueryRow(context.Background(), "SELECT count() FROM customers").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("%d customers written from a refused file", n)
	}
	good := writeFile(t, dir, "good.csv", "customer_id,signup_date,region,segment,payment_method\nC1,2024-01-02,north,sme,wallet\n")
	if _, errOut, code := run(t, append([]string{"import", "--vocabulary", voc, "--table", "customers", "--csv", good}, db...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d customers, want 1", n)
	}
	// Without the vocabulary the defaults apply, and the error says where
	// to add a value.
	_, errOut, _ = run(t, append([]string{"import", "--table", "customers", "--csv", good}, db...)...)
	if !strings.Contains(errOut, `segment: "sme" is not one of consumer, business; add it to a vocabulary file`) {
		t.Fatalf("stderr without a vocabulary:\n%s", errOut)
	}
}

func TestBadVocabularyOrFamilyStopsTheCommand(t *testing.T) {
	dir := t.TempDir()
	voc := writeFile(t, dir, "v.yaml", "customers:\n  segment:\n    smb: [sme]\n")
	if _, errOut, code := run(t, "features", "catalog", "--vocabulary", voc); code == 0 || !strings.Contains(errOut, `category "smb" is not one of consumer, business`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	writeFile(t, dir, "nps.sql", "-- feature: nps_last (score): Last NPS\nSELECT customer_id, toFloat32(1) AS nps_last FROM nps_surveys\n")
	if _, errOut, code := run(t, "features", "catalog", "--features-dir", dir); code == 0 || !strings.Contains(errOut, filepath.Join(dir, "nps.sql")+": does not use @as_of") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func loadNPS(t *testing.T, db []string) {
	t.Helper()
	ctx := context.Background()
	c, err := openForCleanup(db[1], db[3])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ddl, err := os.ReadFile("../../features/examples/tables/nps_surveys.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Conn().Exec(ctx, string(ddl)); err != nil {
		t.Fatal(err)
	}
	d := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	err = c.InsertColumns(ctx, "nps_surveys", []string{"survey_id", "customer_id", "answered_at", "score", "channel"}, []any{
		[]string{"S1", "S2", "S3", "S4"}, []string{"C0001", "C0001", "C0002", "C0003"},
		[]time.Time{d("2023-12-01"), d("2024-01-20"), d("2024-01-05"), d("2024-02-02")},
		[]uint8{9, 4, 7, 1}, []string{"sms", "app", "email", "call"}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFeaturesCheckPassesTheExampleFamilyAndFailsALeakyOne(t *testing.T) {
	db := importSamples(t)
	loadNPS(t, db)
	examples := filepath.Join("..", "..", "features", "examples")
	stdout, errOut, code := run(t, append([]string{"features", "check", "--features-dir", examples}, db...)...)
	if code != 0 || !strings.Contains(stdout, "nps: ok: 4 features of 2 customers unchanged at 2024-02-02") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, errOut)
	}

	// The same family with <= instead of < reads the as-of date.
	src, err := os.ReadFile(filepath.Join(examples, "nps.sql"))
	if err != nil {
		t.Fatal(err)
	}
	leaky := t.TempDir()
	writeFile(t, leaky, "nps.sql", strings.Replace(string(src), "answered_at < t", "answered_at <= t", 1))
	_, errOut, code = run(t, append([]string{"features", "check", "--features-dir", leaky}, db...)...)
	if code == 0 || !strings.Contains(errOut, "family nps") || !strings.Contains(errOut, "of customer C000") {
		t.Fatalf("leaky family: exit %d: %s", code, errOut)
	}

	// The family's features are columns of the export, after the registry.
	out := filepath.Join(t.TempDir(), "snap.csv")
	if _, errOut, code := run(t, append([]string{"features", "--features-dir", examples, "--out", out}, db...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := readCSV(t, out)
	if h := strings.Join(recs[0], ","); !strings.HasSuffix(h, "nps_last,nps_min_365d,nps_detractor_365d,days_since_nps,label") {
		t.Fatalf("header %s", h)
	}
}
