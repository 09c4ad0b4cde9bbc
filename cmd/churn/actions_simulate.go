package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/retention"
)

func newActionsSimulateCmd(a *app) *cobra.Command {
	var (
		apiURL, key, path  string
		cycle              string
		agents, batch      int
		accept, save, dogs map[string]string
		eff                = synth.DefaultRetentionEffect(1)
	)
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Demo only: work the queue through the API as synthetic agents and apply the synthetic save effect",
		Long: `For the synthetic operator of ` + "`churn seed`" + ` only. Synthetic agents claim every
queued action through the running API (` + "`churn serve`" + `) and complete each with an
answer drawn from the synthetic world (accepted, declined, unreachable, by
--accept-rate and --unreachable); they act as several agents, so the key is
an admin's. Email and sms actions the dispatcher delivered get an answer
from the same world (the customer reacted, or not), which it records as the
campaign system would (POST /v1/actions/{id}/answer: accepted or declined;
a message nobody read stays delivered). Then, for each accepted action, the world
decides whether it kept a would-be churner, by action kind and the reason
of the customer's churn event (--save-rate; offers keep price-driven
churners, specialist calls those leaving over service or the network,
messages almost nobody): if so, the customer's voluntary churn event within
the cycle's horizon is deleted from churn_events; a prepaid customer, whose
churn is their silence (reason "silence": offers with a top-up bonus keep
many), gets a monthly top-up up to the data's end instead. A few reached
postpaid customers who would have stayed, at low risk, leave because a
message reminded them they could ("sleeping dogs", --sleeping-dogs): they
get a churn event.
Every draw is a hash of --seed and the action id. --cycle limits the work
to one cycle's actions (the demo works each cycle it plans and leaves the
server's own, later cycles alone); a cycle whose horizon passes the data's
end gets its answers but no effect (its churn is not in the data yet).

It refuses to run unless the database was filled by ` + "`churn seed`" + ` and nothing
was imported since (an operator's data: it deletes churn events), and unless
the API serves that same database (GET /v1/me names it).`,
		Example: `  churn actions simulate --agents 4 --save-rate sms=0.2,offer/price=0.9 --sleeping-dogs sms=0`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := parseRates(accept, eff.AcceptRates, "accept-rate"); err != nil {
				return err
			}
			if err := parseSaveRates(save, eff.SaveRates); err != nil {
				return err
			}
			if err := parseRates(dogs, eff.SleepingDogs, "sleeping-dogs"); err != nil {
				return err
			}
			if err := eff.Validate(); err != nil {
				return err
			}
			pol, err := loadPolicy(path)
			if err != nil {
				return err
			}
			if apiURL == "" {
				apiURL = "http://" + a.cfg.HTTPAddr
			}
			if key == "" {
				if key, err = a.agentKey(); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			cl := &agentClient{base: strings.TrimRight(apiURL, "/"), key: key, http: &http.Client{Timeout: 30 * time.Second}}
			if err := checkSimulateTarget(ctx, st, cl); err != nil {
				return err
			}
			prog := a.newProgress("simulate", "actions", 0)
			if cycle != "" {
				if _, err := retention.CycleDate(cycle); err != nil {
					return churn.Invalid("simulate", "cycle", "%q is not a cycle date (YYYY-MM-DD)", cycle)
				}
			}
			worked, err := cl.work(ctx, eff, cycle, agents, batch, func() { prog.Add(1) })
			prog.End(err)
			if err != nil {
				return err
			}
			delivered, err := cl.delivered(ctx, eff, cycle)
			if err != nil {
				return err
			}
			aprog := a.newProgress("answer", "answers", 0)
			answered, err := cl.answer(ctx, delivered, agents, aprog)
			aprog.End(err)
			if err != nil {
				return err
			}
			worked = append(worked, delivered...)
			counts := map[string]int{}
			for _, w := range worked {
				counts[w.Outcome]++
			}
			fmt.Fprintf(a.stdout, "worked %d actions through %s: accepted %d, declined %d, unreachable %d\n", len(worked), apiURL,
				counts[retention.OutcomeAccepted], counts[retention.OutcomeDeclined], counts[retention.OutcomeUnreachable])
			fmt.Fprintf(a.stdout, "answered %d of %d delivered messages as the campaign system would\n", answered, len(delivered))
			return applyEffect(ctx, a, st, eff, worked, pol.HorizonDays)
		},
	}
	f := cmd.Flags()
	f.StringVar(&apiURL, "api", "", "base URL of the API (default http://$CHURN_HTTP_ADDR)")
	f.StringVar(&key, "key", "", "admin API key: the synthetic agents act for several agents (default: the first admin key of CHURN_API_KEYS / the keys file)")
	f.IntVar(&agents, "agents", 4, "concurrent synthetic agents")
	f.StringVar(&cycle, "cycle", "", "work only this cycle's actions (YYYY-MM-DD; default every cycle)")
	f.IntVar(&batch, "batch", 25, "actions each agent claims at a time")
	f.Uint64Var(&eff.Seed, "seed", eff.Seed, "seed of the synthetic answers and saves")
	f.Float64Var(&eff.Unreachable, "unreachable", eff.Unreachable, "share of customers agents cannot reach")
	f.StringToStringVar(&accept, "accept-rate", nil, "kind=share of reached customers who accept (defaults: specialist_call=0.7,offer=0.6,email=0.2,sms=0.25)")
	f.StringToStringVar(&save, "save-rate", nil, "kind=share (every reason; drops the kind's defaults) or kind/reason=share of accepting would-be churners (leaving for reason) who stay "+
		"(defaults: specialist_call/service=0.8,specialist_call/network=0.7,specialist_call/price=0.2,specialist_call/competitor=0.3,specialist_call/silence=0.3,"+
		"specialist_call=0.05,offer/price=0.85,offer/competitor=0.6,offer/silence=0.6,offer=0.05,email/price=0.1,email=0.03,sms=0.02)")
	f.StringToStringVar(&dogs, "sleeping-dogs", nil, "kind=share of reached low-risk customers who would have stayed and leave because of the contact "+
		"(defaults: specialist_call=0.01,offer=0,email=0.02,sms=0.03)")
	f.Float64Var(&eff.SleepingDogRisk, "sleeping-dog-risk", eff.SleepingDogRisk, "churn probability below which a contacted customer may be a sleeping dog")
	policyFlag(f, &path)
	return cmd
}

// seededDB is the database simulate would rewrite.
type seededDB interface {
	Seeded(ctx context.Context) (bool, error)
	Database() string
}

// checkSimulateTarget refuses, before any action is claimed, a database that
// holds an operator's data and an API that serves another database: simulate
// completes actions with made-up outcomes and deletes churn events.
func checkSimulateTarget(ctx context.Context, db seededDB, cl *agentClient) error {
	const op = "simulate"
	seeded, err := db.Seeded(ctx)
	if err != nil {
		return err
	}
	if !seeded {
		return churn.Errorf(churn.KindConflict, op, "database %s was not filled by `churn seed` (it has no seed mark in data_origin, "+
			"or data was imported since): simulate makes up agents' outcomes and deletes churn events, so it runs on synthetic data only",
			db.Database())
	}
	var me struct {
		Database *string `json:"database"`
	}
	if err := cl.call(ctx, http.MethodGet, "/v1/me", nil, &me); err != nil {
		return err
	}
	switch {
	case me.Database == nil || *me.Database == "":
		return churn.Errorf(churn.KindConflict, op, "the API at %s does not say which database it serves (GET /v1/me has no database; "+
			"is it an older churn serve?), so it may not be %s's: refusing to work its queue", cl.base, db.Database())
	case *me.Database != db.Database():
		return churn.Errorf(churn.KindConflict, op, "the API at %s serves database %q, not %q: point --api at the server of %s, "+
			"or set --clickhouse-db (CHURN_CLICKHOUSE_DB) to the API's database", cl.base, *me.Database, db.Database(), db.Database())
	}
	return nil
}

func parseRates(in map[string]string, out map[string]float64, flag string) error {
	for k, v := range in {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return churn.Invalid("simulate", flag, "%s=%q is not a number", k, v)
		}
		out[k] = x
	}
	return nil
}

// parseSaveRates reads kind=share, the kind's rate for every reason, and
// kind/reason=share, one reason's. A kind named alone drops its per-reason
// defaults, so that offer=0 means offers keep nobody rather than only those
// leaving for a reason the defaults do not list (a cluster test that meant
// to turn the effect off that way still lost a churn event under the
// champion's holdout).
func parseSaveRates(in map[string]string, out map[string]map[string]float64) error {
	flat := map[string]float64{}
	if err := parseRates(in, flat, "save-rate"); err != nil {
		return err
	}
	for k, v := range flat {
		if !strings.Contains(k, "/") {
			out[k] = map[string]float64{synth.AnyReason: v}
		}
	}
	for k, v := range flat {
		kind, reason, ok := strings.Cut(k, "/")
		if !ok {
			continue
		}
		if out[kind] == nil {
			out[kind] = map[string]float64{}
		}
		out[kind][reason] = v
	}
	return nil
}

// applyEffect removes the churn events of the would-be churners the
// accepted actions kept, gives the prepaid ones among them (whose churn is
// their silence) a monthly top-up until the data's end, and adds the churn
// events of the sleeping dogs woken, cycle by cycle. A cycle whose horizon
// passes the data's end is left alone: its churn is not in the data yet,
// and a woken customer would leave on a day the data does not have.
func applyEffect(ctx context.Context, a *app, c *clickhouse.Client, eff synth.RetentionEffect, worked []workedAction, horizon int) error {
	byCycle := map[string][]workedAction{}
	ids := make([]string, 0, len(worked))
	for _, w := range worked {
		byCycle[w.Cycle] = append(byCycle[w.Cycle], w)
		ids = append(ids, w.CustomerID)
	}
	if len(worked) == 0 {
		return nil
	}
	_, last, err := c.UsageRange(ctx)
	if err != nil {
		return err
	}
	end := last.AddDate(0, 0, 1)
	prepaid, err := c.PrepaidAmong(ctx, ids)
	if err != nil {
		return err
	}
	total, woken := 0, 0
	for _, cycle := range slices.Sorted(maps.Keys(byCycle)) {
		from, err := retention.CycleDate(cycle)
		if err != nil {
			return err
		}
		to := from.AddDate(0, 0, horizon)
		if to.After(end) {
			fmt.Fprintf(a.stdout, "cycle %s: %d worked actions; effect not applied: its %d-day horizon passes the data's end (%s)\n",
				cycle, len(byCycle[cycle]), horizon, end.Format(time.DateOnly))
			continue
		}
		before, err := c.ChurnedBetween(ctx, from, to)
		if err != nil {
			return err
		}
		reasons, err := c.ChurnReasonsBetween(ctx, from, to)
		if err != nil {
			return err
		}
		var (
			kept, keptPrepaid, dogs []string
			dogDays                 []time.Time
		)
		for _, w := range byCycle[cycle] {
			reason, leaving := reasons[w.CustomerID]
			_, churns := before[w.CustomerID]
			if prepaid[w.CustomerID] && churns && !leaving {
				reason, leaving = synth.SilenceReason, true
			}
			switch {
			case leaving && w.Outcome == retention.OutcomeAccepted && eff.Saves(w.ActionID, w.Kind, reason):
				if prepaid[w.CustomerID] {
					keptPrepaid = append(keptPrepaid, w.CustomerID)
				} else {
					kept = append(kept, w.CustomerID)
				}
			case !churns && !prepaid[w.CustomerID] && w.Outcome != retention.OutcomeUnreachable && eff.Wakes(w.ActionID, w.Kind, w.Probability):
				dogs = append(dogs, w.CustomerID)
				dogDays = append(dogDays, from.AddDate(0, 0, eff.WakeDay(w.ActionID, horizon)))
			}
		}
		if err := c.DeleteChurnEvents(ctx, kept, from, to); err != nil {
			return err
		}
		// A kept prepaid customer tops up about monthly from the cycle on,
		// so the silence that made them a churner never comes.
		if err := c.AddSyntheticTopups(ctx, keptPrepaid, from.AddDate(0, 0, 1), end, 30, 10); err != nil {
			return err
		}
		if err := c.AddSyntheticChurnEvents(ctx, dogs, dogDays, "competitor"); err != nil {
			return err
		}
		after, err := c.ChurnedBetween(ctx, from, to)
		if err != nil {
			return err
		}
		removed := 0
		for id := range before {
			if _, ok := after[id]; !ok {
				removed++
			}
		}
		total, woken = total+removed, woken+len(dogs)
		fmt.Fprintf(a.stdout, "cycle %s: %d worked actions; would-be churners kept %d (%d prepaid; no longer churned %d); sleeping dogs woken %d\n",
			cycle, len(byCycle[cycle]), len(kept)+len(keptPrepaid), len(keptPrepaid), removed, len(dogs))
	}
	a.log.Info("synthetic retention effect applied", "churners_kept", total, "sleeping_dogs", woken)
	return nil
}

// agentKey finds an admin key (acting for the synthetic agents) in the
// configured key lists; role:key and role:name:key entries alike.
func (a *app) agentKey() (string, error) {
	var lines []string
	lines = append(lines, strings.Split(a.cfg.APIKeys, ",")...)
	if a.cfg.APIKeysFile != "" {
		b, err := os.ReadFile(a.cfg.APIKeysFile)
		if err != nil {
			return "", churn.Invalid("simulate", "api-keys-file", "%v", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}
	for _, l := range lines {
		role, k, ok := strings.Cut(strings.TrimSpace(l), ":")
		if _, named, isNamed := strings.Cut(k, ":"); isNamed {
			k = named
		}
		if ok && strings.TrimSpace(role) == "admin" {
			return strings.TrimSpace(k), nil
		}
	}
	return "", churn.Invalid("simulate", "key", "no admin key (synthetic agents act for several agents): pass --key or set CHURN_API_KEYS")
}

// agentClient works the queue through the HTTP API.
type agentClient struct {
	base, key string
	http      *http.Client
}

type workedAction struct {
	ActionID    string  `json:"action_id"`
	CustomerID  string  `json:"customer_id"`
	Cycle       string  `json:"cycle"`
	Kind        string  `json:"kind"`
	Outcome     string  `json:"outcome"`
	Probability float64 `json:"probability"`
}

func (c *agentClient) work(ctx context.Context, eff synth.RetentionEffect, cycle string, agents, batch int, done func()) ([]workedAction, error) {
	var (
		mu     sync.Mutex
		out    []workedAction
		wg     sync.WaitGroup
		errs   = make(chan error, agents)
		cctx   context.Context
		cancel context.CancelFunc
	)
	cctx, cancel = context.WithCancel(ctx)
	defer cancel()
	for g := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agent := fmt.Sprintf("synthetic-agent-%d", g+1)
			for cctx.Err() == nil {
				var res struct{ Actions []workedAction }
				req := map[string]any{"agent": agent, "limit": batch}
				if cycle != "" {
					req["cycle"] = cycle
				}
				if err := c.post(cctx, "/v1/actions/claim", req, &res); err != nil {
					errs <- err
					cancel()
					return
				}
				if len(res.Actions) == 0 {
					return
				}
				for _, w := range res.Actions {
					w.Outcome = eff.Answer(w.ActionID, w.Kind)
					body := map[string]any{"outcome": w.Outcome, "agent": agent, "note": "synthetic agent"}
					if err := c.post(cctx, "/v1/actions/"+w.ActionID+"/complete", body, nil); err != nil {
						errs <- err
						cancel()
						return
					}
					mu.Lock()
					out = append(out, w)
					mu.Unlock()
					done()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return out, err
	}
	return out, nil
}

// delivered returns the email and sms actions the dispatcher delivered
// (of one cycle unless cycle is ""), each answered by the synthetic world as
// if the customer had read it.
func (c *agentClient) delivered(ctx context.Context, eff synth.RetentionEffect, cycle string) ([]workedAction, error) {
	var out []workedAction
	for _, kind := range []churn.ActionKind{churn.ActionEmail, churn.ActionSMS} {
		for offset := 0; ; {
			var page struct {
				Items []workedAction
				Total int
			}
			q := url.Values{"status": {string(churn.ActionDone)}, "kind": {string(kind)}, "limit": {"1000"}, "offset": {strconv.Itoa(offset)}}
			if cycle != "" {
				q.Set("cycle", cycle)
			}
			if err := c.call(ctx, http.MethodGet, "/v1/actions?"+q.Encode(), nil, &page); err != nil {
				return nil, err
			}
			for _, w := range page.Items {
				if w.Outcome == retention.OutcomeDelivered {
					w.Outcome = eff.Answer(w.ActionID, w.Kind)
					out = append(out, w)
				}
			}
			offset += len(page.Items)
			if len(page.Items) == 0 || offset >= page.Total {
				break
			}
		}
	}
	return out, nil
}

// answer records, as the campaign system would, the answers of the
// delivered messages whose customer answered (accepted or declined; one
// who never read it leaves the message delivered), in batches of
// retention.MaxAnswers (POST /v1/actions/answers) on workers goroutines,
// and returns how many it recorded.
func (c *agentClient) answer(ctx context.Context, delivered []workedAction, workers int, p *progress) (int, error) {
	type answer struct {
		ActionID string `json:"action_id"`
		Outcome  string `json:"outcome"`
		Note     string `json:"note"`
	}
	var all []answer
	for _, w := range delivered {
		if w.Outcome == retention.OutcomeAccepted || w.Outcome == retention.OutcomeDeclined {
			all = append(all, answer{w.ActionID, w.Outcome, "synthetic campaign system"})
		}
	}
	p.SetTotal(int64(len(all)))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for batch := range slices.Chunk(all, retention.MaxAnswers) {
		g.Go(func() error {
			if err := c.post(gctx, "/v1/actions/answers", map[string]any{"answers": batch}, nil); err != nil {
				return err
			}
			p.Add(int64(len(batch)))
			return nil
		})
	}
	return len(all), g.Wait()
}

func (c *agentClient) post(ctx context.Context, path string, body, out any) error {
	return c.call(ctx, http.MethodPost, path, body, out)
}

// call sends body (nil: none) as JSON and decodes a 200 answer into out.
// A busy server's 503 (ClickHouse slow to answer) is retried a few times
// with a growing pause: claims and completions are safe to repeat.
func (c *agentClient) call(ctx context.Context, method, path string, body, out any) error {
	var err error
	for attempt := range 6 {
		if err = c.callOnce(ctx, method, path, body, out); !errors.Is(err, errBusy) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * time.Second):
		}
	}
	return err
}

// errBusy marks a 503 answer.
var errBusy = errors.New("the API is busy")

func (c *agentClient) callOnce(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return churn.Unavailable("call the API", fmt.Errorf("%s (is `churn serve` running?): %w", c.base, err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<22))
	if resp.StatusCode == http.StatusServiceUnavailable {
		return fmt.Errorf("%s %s: %s: %s: %w", method, path, resp.Status, strings.TrimSpace(string(data)), errBusy)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
