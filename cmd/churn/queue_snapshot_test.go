package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestServeStoresAQueueSnapshotWhenItStopsAndTheNextStartReadsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a server")
	}
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	// Events an hour old are settled: a snapshot may hold them.
	old := time.Now().Add(-time.Hour)
	var evs []churn.ActionEvent
	for i := range 50 {
		at := old.Add(time.Duration(i) * time.Second)
		evs = append(evs, churn.ActionEvent{ID: fmt.Sprintf("e%019d-0000test", at.UnixNano()), Type: churn.ActionQueued, At: at,
			Actor: "job:actions", Action: churn.Action{ID: fmt.Sprintf("a%03d", i), CustomerID: fmt.Sprintf("c%03d", i),
				Cycle: "2026-01-01", Kind: churn.ActionSMS, Status: churn.ActionQueued}})
	}
	if err := c.AppendActionEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := buildChurn(t, dir)
	first := newServedQueue(t, bin, dir, "first", cfg)
	first.start()
	t.Cleanup(first.kill)
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	hs, err := c.QueueSnapshots(ctx, 5)
	if err != nil || len(hs) != 1 || hs[0].Actions != 50 || hs[0].Cut != evs[49].ID {
		t.Fatalf("snapshots after a clean stop: %+v, %v; want one of 50 actions cut at %s", hs, err, evs[49].ID)
	}

	second := newServedQueue(t, bin, dir, "second", cfg)
	second.start()
	t.Cleanup(second.kill)
	var st int
	var res struct{ Total int }
	if err := second.call("GET", "/v1/actions?limit=1", nil, &st, &res); err != nil || st != 200 || res.Total != 50 {
		t.Fatalf("actions after the restart: status %d, total %d, %v", st, res.Total, err)
	}
	b, _ := os.ReadFile(second.log.Name())
	if !strings.Contains(string(b), "snapshot loaded") || !strings.Contains(string(b), fmt.Sprint(hs[0].ID)) {
		t.Errorf("the second start does not log the snapshot it loaded:\n%s", b)
	}
}
