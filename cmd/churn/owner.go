package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/telcoretain/churn/clickhouse"
)

// processOwner names this process where the database records who runs
// something (imports, scoring and training runs): host and pid.
func processOwner() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// localProcess says whether owner is another process of this host, and
// whether it exists.
func localProcess(owner string) (local, running bool) {
	pid, ok := localPID(owner)
	if !ok || pid == os.Getpid() {
		return false, false
	}
	return true, processExists(pid)
}

// runOwnerAlive says whether the process that started a run may still be
// running it. A process of another host cannot be checked: it may be, and
// the age of its run decides. This process is not running an earlier run:
// it reconciles before starting its own, and a scheduler never runs two
// scoring runs at once.
func runOwnerAlive(owner string) bool {
	host, _, _ := strings.Cut(owner, ":")
	if me, err := os.Hostname(); err == nil && me != host {
		return true
	}
	_, running := localProcess(owner)
	return running
}

// scoreTimeout is the scoring job's timeout: --job-timeout score=..., or its
// default. A scoring run started longer ago is dead whoever started it.
func (a *app) scoreTimeout() time.Duration {
	for _, it := range a.cfg.Jobs.timeouts {
		name, v, _ := strings.Cut(it, "=")
		if strings.TrimSpace(name) == "score" {
			if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil && d > 0 {
				return d
			}
		}
	}
	return defaultTimeouts["score"]
}

// reconcileScoreRuns marks failed the scoring runs left started by a process
// that died and removes the rows of failed runs, logging what it did.
func (a *app) reconcileScoreRuns(st *clickhouse.Client) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		res, err := st.ReconcileScoreRuns(ctx, clickhouse.ReconcileOptions{Alive: runOwnerAlive, MaxAge: a.scoreTimeout()})
		if len(res.Failed) > 0 || len(res.Purged) > 0 {
			a.log.Info("earlier scoring runs cleaned up", "marked_failed", strings.Join(res.Failed, ","), "rows_removed_of", strings.Join(res.Purged, ","))
		}
		return err
	}
}
