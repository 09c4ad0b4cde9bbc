package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/jobs"
)

func newJobsCmd(a *app) *cobra.Command {
	cfg := &a.cfg.Jobs
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List, run and schedule the jobs: train, score, actions, dispatch and prune (when configured), outcomes, drift",
		Long: `The jobs that keep models, scores and action queues fresh. ` + "`churn serve`" + ` runs
them on their schedules; ` + "`churn jobs run-scheduler`" + ` does the same in a separate
worker (start the API with --scheduler=false then, so that only one process
schedules). Every run is recorded in the job_runs table.

Schedules (--schedule NAME=SPEC, env CHURN_SCHEDULE="NAME=SPEC;..."), in
--timezone, by default: ` + describeSchedules() + `.
A run that comes due while the previous one is still going is skipped;
ClickHouse outages are retried with backoff; each run has a timeout
(--job-timeout NAME=DURATION).`,
	}
	a.cfg.bind(cmd.PersistentFlags(), groupJobs, groupPolicy, groupDispatch)
	set := func(st *clickhouse.Client, reg prometheus.Registerer) *jobSet {
		return a.cliJobSet(st, *cfg, a.cfg.PolicyPath, reg)
	}
	cmd.AddCommand(newJobsListCmd(a, cfg, set), newJobsRunCmd(a, cfg, set), newJobsSchedulerCmd(a, cfg, set))
	return cmd
}

// jobSetFunc builds the jobs of a `churn jobs` command.
type jobSetFunc func(st *clickhouse.Client, reg prometheus.Registerer) *jobSet

func newJobsListCmd(a *app, cfg *jobsConfig, set jobSetFunc) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show each job's schedule and next run, then the latest runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(st *clickhouse.Client) error {
				s, err := a.newScheduler(st, set(st, nil), *cfg, nil)
				if err != nil {
					return err
				}
				runs, err := st.JobRuns(cmd.Context(), "", limit)
				if err != nil {
					return err
				}
				printJobs(a.stdout, s, runs)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&limit, "runs", 10, "latest runs to show")
	return cmd
}

func newJobsRunCmd(a *app, cfg *jobsConfig, set jobSetFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "run NAME",
		Short: "Run a job now (and the jobs that run after it), recorded as a manual run",
		Example: `  churn jobs run score     # score, then actions and the drift check
  churn jobs run drift     # may start a retraining run, which it waits for`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st *clickhouse.Client) error {
				js := set(st, nil)
				s, err := a.newScheduler(st, js, *cfg, nil)
				if err != nil {
					return err
				}
				runs, err := s.RunNow(ctx, args[0], jobs.TriggerManual)
				s.Wait() // for a retraining started by the drift check
				seen := map[string]bool{}
				for _, r := range runs {
					if r.ID == "" {
						continue // no run: an unknown job, or one still running
					}
					printRun(a.stdout, r)
					seen[r.ID] = true
				}
				// This process's scheduler knows only its own runs: a last
				// run not printed yet was started in the background.
				for _, j := range s.Jobs() {
					if j.Last != nil && !seen[j.Last.ID] {
						printRun(a.stdout, *j.Last)
					}
				}
				return err
			})
		},
	}
}

func newJobsSchedulerCmd(a *app, cfg *jobsConfig, set jobSetFunc) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run-scheduler",
		Short: "Run the jobs on their schedules until stopped (a worker beside the API)",
		Long: `Run the scheduler in this process until SIGINT or SIGTERM; then the running
job is cancelled, stops at its next safe point (a scoring run is marked failed
and the previous one stays served) and the process exits. With --metrics-addr
the job and drift metrics are served at /metrics.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, metricsAddr := cmd.Context(), a.cfg.MetricsAddr
			return a.withStore(ctx, func(st *clickhouse.Client) error {
				reg := prometheus.NewRegistry()
				reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
				s, err := a.newScheduler(st, set(st, reg), *cfg, reg)
				if err != nil {
					return err
				}
				g, gctx := errgroup.WithContext(ctx)
				g.Go(func() error { return s.Run(gctx) })
				if metricsAddr != "" {
					ln, err := net.Listen("tcp", metricsAddr)
					if err != nil {
						return usageError{fmt.Errorf("--metrics-addr %s: %w", metricsAddr, err)}
					}
					srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
					g.Go(func() error {
						if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
							return err
						}
						return nil
					})
					g.Go(func() error {
						<-gctx.Done()
						return srv.Shutdown(context.WithoutCancel(gctx))
					})
				}
				a.log.Info("scheduler running", "jobs", len(s.Names()), "timezone", s.Location().String(), "metrics", metricsAddr)
				err = g.Wait()
				a.log.Info("scheduler stopped")
				return err
			})
		},
	}
	a.cfg.bind(cmd.Flags(), groupWorker)
	return cmd
}

func printJobs(w io.Writer, s *jobs.Scheduler, runs []churn.JobRun) {
	last := map[string]churn.JobRun{}
	for _, r := range runs {
		if _, ok := last[r.Job]; !ok && r.Status != churn.JobSkipped {
			last[r.Job] = r
		}
	}
	fmt.Fprintf(w, "jobs (schedules in %s):\n", s.Location())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE\tNEXT RUN\tTIMEOUT\tLAST RUN")
	for _, j := range s.Jobs() {
		next := "-"
		if !j.Next.IsZero() {
			next = j.Next.Format("2006-01-02 15:04 MST")
		}
		lr := "-"
		if r, ok := last[j.Name]; ok {
			lr = fmt.Sprintf("%s %s (%s)", r.Started.UTC().Format("2006-01-02 15:04Z"), r.Status, r.Trigger)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.Name, j.Schedule, next, j.Timeout, lr)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs yet")
		return
	}
	fmt.Fprintln(w, "latest runs:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tJOB\tTRIGGER\tSTATUS\tTOOK\tROWS\tRUN\tERROR")
	for _, r := range runs {
		took := "-"
		if !r.Finished.IsZero() {
			took = r.Finished.Sub(r.Started).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Started.UTC().Format("2006-01-02 15:04:05Z"), r.Job, r.Trigger, r.Status, took, r.Rows, r.ID, oneLine(r.Error, 80))
	}
	tw.Flush()
}

func printRun(w io.Writer, r churn.JobRun) {
	took := r.Finished.Sub(r.Started).Round(time.Millisecond)
	line := fmt.Sprintf("%s %s: %s in %s, %d rows (%s)", r.Job, r.ID, r.Status, took, r.Rows, r.Trigger)
	if r.Error != "" {
		line += ": " + r.Error
	}
	fmt.Fprintln(w, line)
}

func oneLine(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return string(r)
}
