package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports long work: a bar with rate and ETA on a terminal, and
// structured log lines (rows, percent, rate) every few seconds otherwise, so
// CI logs and systemd journals stay readable. Safe for concurrent use.
type progress struct {
	mu       sync.Mutex
	a        *app
	label    string
	unit     string
	total    int64 // 0 when unknown
	done     int64
	start    time.Time
	lastLog  time.Time
	bar      *progressbar.ProgressBar
	finished bool
	// estimated: the total is an estimate that firms up as the work goes
	// (a snapshot's sides: churn.ShareProgress), so an ETA is given only
	// from etaFromPercent on. Before that it can be absurd: after 4 s of
	// a million-customer snapshot the rows read said 1 h 27 min.
	estimated bool
}

// etaFromPercent is where an estimated total's ETA starts to mean
// something.
const etaFromPercent = 10

const progressLogEvery = 3 * time.Second

// newProgress starts reporting work on total units (0: unknown).
func (a *app) newProgress(label, unit string, total int64) *progress {
	return a.startProgress(label, unit, total, false)
}

// newEstimatedProgress starts reporting work whose total is an estimate
// given later (SetTotal) that may change as the work goes.
func (a *app) newEstimatedProgress(label, unit string) *progress {
	return a.startProgress(label, unit, 0, true)
}

func (a *app) startProgress(label, unit string, total int64, estimated bool) *progress {
	p := &progress{a: a, label: label, unit: unit, total: total, start: time.Now(), estimated: estimated}
	p.lastLog = p.start
	if term.IsTerminal(int(a.stderr.Fd())) {
		max := total
		if max <= 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetPredictTime(!estimated),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { _, _ = a.stderr.WriteString("\n") }),
		)
	}
	return p
}

// Add records n more units done.
func (p *progress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.bar != nil {
		_ = p.bar.Add64(n)
		return
	}
	if now := time.Now(); now.Sub(p.lastLog) >= progressLogEvery {
		p.lastLog = now
		p.logLine(slog.LevelInfo, "progress")
	}
}

// SetTotal changes the total once it is known.
func (p *progress) SetTotal(total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	if p.bar != nil {
		p.bar.ChangeMax64(total)
	}
}

// End ends the report with a summary line: "done" when err is nil, else
// "failed" with the units done so far and the error, so that a run that died
// is never reported as complete.
func (p *progress) End(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if err != nil {
		if p.bar != nil {
			_ = p.bar.Exit() // leave the bar where it stopped, not at 100%
			_, _ = p.a.stderr.WriteString("\n")
		}
		p.logLine(slog.LevelError, "failed", "err", err.Error())
		return
	}
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	p.logLine(slog.LevelInfo, "done")
}

func (p *progress) logLine(level slog.Level, msg string, extra ...any) {
	el := time.Since(p.start)
	rate := 0.0
	if s := el.Seconds(); s > 0 {
		rate = float64(p.done) / s
	}
	args := []any{"task", p.label, p.unit, p.done, "elapsed", el.Round(time.Millisecond).String(), "rate_per_s", int64(rate)}
	if p.total > 0 {
		pct := 100 * float64(p.done) / float64(p.total)
		args = append(args, "total", p.total, "percent", int(pct))
		if rate > 0 && p.done < p.total && (!p.estimated || pct >= etaFromPercent) {
			args = append(args, "eta", (time.Duration(float64(p.total-p.done)/rate) * time.Second).Round(time.Second).String())
		}
	}
	p.a.log.Log(context.Background(), level, msg, append(args, extra...)...)
}
