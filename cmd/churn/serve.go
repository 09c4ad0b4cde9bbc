package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/serve"
)

func newServeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API: scores, risk lists, summaries and the model registry",
		Long: `Serve the HTTP API on --http-addr (CHURN_HTTP_ADDR). Scores come from an
in-memory snapshot of the latest finished scoring run, reloaded when a newer
run finishes; when ClickHouse is down the last snapshot keeps being served.

Routes under /v1 need an API key (Authorization: Bearer KEY) from
CHURN_API_KEYS (role:key,...) or --api-keys-file; without keys the command
refuses to start unless --insecure-no-auth is given. /healthz, /readyz,
/metrics and /openapi.yaml are open. Stops cleanly on SIGINT or SIGTERM.

Runs the scheduled jobs (train, score, drift, ...) as well, on the schedules
of --schedule (see ` + "`churn jobs --help`" + `), unless --scheduler=false.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, insecure, jcfg, policyPath := a.cfg.Serve, a.cfg.Serve.Insecure, a.cfg.Jobs, a.cfg.PolicyPath
			keys, err := a.apiKeys()
			if err != nil {
				return err
			}
			cfg.Keys, cfg.Insecure = keys, insecure
			if !insecure && keys.Len() == 0 {
				return usageError{serve.ErrNoKeys} // before ClickHouse, whose errors would hide this one
			}
			if insecure {
				a.log.Warn("authentication is off (--insecure-no-auth): every request is admin; never expose this server")
			}
			if a.cfg.OwnerTTL < 2*cfg.PollInterval {
				return usageError{fmt.Errorf("--queue-owner-ttl %s: want at least twice --poll-interval (%s), or every slow poll hands the queue over",
					formatDuration(a.cfg.OwnerTTL), formatDuration(cfg.PollInterval))}
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			deps := serve.Deps{Scores: st, Models: st, Pinger: st, Registry: reg, Log: a.log}
			ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
			if err != nil {
				return usageError{fmt.Errorf("--http-addr %s: %w", a.cfg.HTTPAddr, err)}
			}
			defer ln.Close()
			queue, policy, own, err := a.addActionDeps(ctx, st, policyPath, cfg.PollInterval, advertised(a.cfg.Advertise, ln), &deps)
			if err != nil {
				return err
			}
			var (
				sched *jobs.Scheduler
				set   *jobSet
			)
			if a.cfg.Scheduler {
				set = a.newJobSet(st, jcfg, reg) // register more jobs on set here, before the scheduler is built
				actionsJob, outcomesJob := a.newActionJobs(st, queue, policy)
				set.add("actions", ownerOnly{actionsJob, own, a.log})
				set.add("outcomes", ownerOnly{outcomesJob, own, a.log})
				if err := a.addDispatchJob(set, queue, own, reg); err != nil {
					return err
				}
				if sched, err = a.newScheduler(st, set, jcfg, reg); err != nil {
					return err
				}
				deps.Jobs = schedulerAPI{sched}
			}
			cfg.Database = st.Database()
			srv, err := serve.New(cfg, deps)
			if err != nil {
				return usageError{err}
			}
			if set != nil {
				// Serve this process's own scoring runs at once; runs of
				// other processes are found by the poll.
				set.score.Finished = func(string) { srv.Loader().Notify() }
			}
			a.log.Info("serving HTTP API", "addr", ln.Addr().String(), "keys", keys.Len(),
				"poll_interval", cfg.PollInterval, "clickhouse", st.Addr(), "database", st.Database())
			err = runWithScheduler(ctx, sched, func(ctx context.Context) error {
				sctx, stop := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() { defer close(done); _ = a.queueSnapshots(sctx, queue, own) }()
				err := srv.Run(ctx, ln)
				stop()
				<-done
				return err
			})
			// A last snapshot while this server still owns the queue, so
			// the next start replays as little as possible.
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			a.snapshotQueue(sctx, queue, own)
			scancel()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if rerr := own.Release(rctx); rerr != nil {
				a.log.Warn("action queue: could not release the queue; another server takes over when the claim's TTL has passed", "err", rerr)
			}
			cancel()
			a.log.Info("HTTP API stopped")
			return err
		},
	}
	a.cfg.bind(cmd.Flags(), groupServe, groupJobs, groupPolicy, groupDispatch)
	return cmd
}

// apiKeys reads the keys of CHURN_API_KEYS and of the keys file together.
func (a *app) apiKeys() (*serve.Keys, error) {
	keys, err := serve.ParseKeys(a.cfg.APIKeys, "CHURN_API_KEYS")
	if err != nil {
		return nil, err
	}
	if a.cfg.APIKeysFile != "" {
		fk, err := serve.ReadKeysFile(a.cfg.APIKeysFile)
		if err != nil {
			return nil, err
		}
		keys = keys.Merge(fk)
	}
	return keys, nil
}
