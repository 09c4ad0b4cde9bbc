package main

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// progressApp is an app whose stderr is a file (no terminal, so progress is
// logged) and whose log lines land in the returned buffer.
func progressApp(t *testing.T) (*app, *bytes.Buffer) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var buf bytes.Buffer
	return &app{log: slog.New(slog.NewTextHandler(&buf, nil)), stderr: f, stdout: f}, &buf
}

func TestProgressOfAFailedRunSaysFailedWithTheRowsDoneNotDone(t *testing.T) {
	a, buf := progressApp(t)
	p := a.newProgress("score", "customers", 1000)
	p.Add(400)
	p.End(errors.New("insert into scores: connection refused"))
	out := buf.String()
	for _, want := range []string{"level=ERROR", "msg=failed", "customers=400", "percent=40", "connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "msg=done") || strings.Contains(out, "percent=100") {
		t.Errorf("a failed run is reported as done:\n%s", out)
	}
	p.End(nil) // a second End changes nothing
	if strings.Contains(buf.String(), "msg=done") {
		t.Errorf("End after End logged again:\n%s", buf)
	}
}

func TestProgressOfAFinishedRunSaysDoneAtFullPercent(t *testing.T) {
	a, buf := progressApp(t)
	p := a.newProgress("score", "customers", 1000)
	p.Add(1000)
	p.End(nil)
	if out := buf.String(); !strings.Contains(out, "msg=done") || !strings.Contains(out, "percent=100") || strings.Contains(out, "failed") {
		t.Errorf("finished run:\n%s", out)
	}
}

func TestAnEstimatedTotalGivesNoETAUntilItMeansSomething(t *testing.T) {
	a, buf := progressApp(t)
	p := a.newEstimatedProgress("features", "rows read")
	p.start = p.start.Add(-4 * time.Second)
	p.SetTotal(504_000_000)
	p.Add(100_000) // 0.02%: rows per second say hours
	p.logLine(slog.LevelInfo, "progress")
	if out := buf.String(); strings.Contains(out, "eta=") || !strings.Contains(out, "percent=0") {
		t.Errorf("an estimate at 0%% gave an ETA:\n%s", out)
	}
	buf.Reset()
	p.Add(252_000_000)
	p.logLine(slog.LevelInfo, "progress")
	if out := buf.String(); !strings.Contains(out, "eta=") {
		t.Errorf("an estimate at 50%% gave no ETA:\n%s", out)
	}
	buf.Reset()
	q := a.newProgress("score", "customers", 1000)
	q.start = q.start.Add(-4 * time.Second)
	q.Add(1)
	q.logLine(slog.LevelInfo, "progress")
	if out := buf.String(); !strings.Contains(out, "eta=") {
		t.Errorf("a known total gave no ETA at 0.1%%:\n%s", out)
	}
}
