// Package chtest gives integration tests a fresh, migrated ClickHouse database
// on a real server. Without a server the test is skipped on a developer's
// machine and fails under CI=true, so CI can never pass without exercising
// ClickHouse.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
)

// Addr is the server the tests use: CHURN_TEST_CLICKHOUSE_ADDR, else
// CHURN_CLICKHOUSE_ADDR, else 127.0.0.1:9000.
func Addr() string {
	for _, k := range []string{"CHURN_TEST_CLICKHOUSE_ADDR", "CHURN_CLICKHOUSE_ADDR"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "127.0.0.1:9000"
}

// Config returns a configuration for a new database with a unique name.
func Config() clickhouse.Config {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return clickhouse.Config{
		Addr:     Addr(),
		Database: "churn_test_" + hex.EncodeToString(b[:]),
		User:     os.Getenv("CHURN_CLICKHOUSE_USER"),
		Password: os.Getenv("CHURN_CLICKHOUSE_PASSWORD"),
	}
}

// Require stops the test when no ClickHouse answers: a skip on a developer's
// machine, a failure when CI=true.
func Require(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg := Config()
	cfg.Database = "default"
	c, err := clickhouse.Open(ctx, cfg, nil)
	if err == nil {
		c.Close()
	}
	need(t, "ClickHouse", "set CI=true to make this a failure", err)
}

// need skips the test when err is not nil, or fails it when CI=true: CI
// starts every server the tests use.
func need(t testing.TB, what, hint string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("no %s (%s): %v", what, hint, err)
}

// NewDB creates a migrated database with a unique name, returns a client to it
// and its configuration, and drops it when the test ends (unless
// CHURN_TEST_KEEP_DB is set, for debugging).
func NewDB(t testing.TB) (*clickhouse.Client, clickhouse.Config) {
	t.Helper()
	return NewDBAt(t, nil)
}

// NewDBAt is NewDB with a client that stamps its rows with the clock now
// (nil: the wall clock), so a test orders runs without waiting for seconds
// to pass.
func NewDBAt(t testing.TB, now func() time.Time) (*clickhouse.Client, clickhouse.Config) {
	t.Helper()
	Require(t)
	ctx := context.Background()
	cfg := Config()
	cfg.Now = now
	if _, err := clickhouse.Migrate(ctx, cfg, nil); err != nil {
		t.Fatalf("migrate %s: %v", cfg.Database, err)
	}
	c, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Database, err)
	}
	t.Cleanup(func() {
		defer c.Close()
		if os.Getenv("CHURN_TEST_KEEP_DB") != "" {
			t.Logf("kept database %s", cfg.Database)
			return
		}
		// Bounded: ClickHouse 18.16 can leave a query cancelled by a killed
		// client running forever, and a DROP behind it waits with it; the
		// suite goes on and the database stays (its name is in the log).
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := c.DropDatabase(ctx); err != nil {
			t.Logf("drop %s: %v", cfg.Database, err)
		}
	})
	return c, cfg
}
