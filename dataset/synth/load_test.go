package synth

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// memInserter records blocks in memory, failing on the failAt-th insert when
// failAt > 0.
type memInserter struct {
	mu      sync.Mutex
	rows    map[string]int
	blocks  map[string][]int
	inserts int
	failAt  int
}

func (m *memInserter) InsertColumns(_ context.Context, table string, columns []string, data []any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inserts++
	if m.failAt > 0 && m.inserts >= m.failAt {
		return errors.New("disk full")
	}
	if len(columns) != len(data) {
		return errors.New("columns and data differ in length")
	}
	n := reflect.ValueOf(data[0]).Len()
	if m.rows == nil {
		m.rows, m.blocks = map[string]int{}, map[string][]int{}
	}
	m.rows[table] += n
	m.blocks[table] = append(m.blocks[table], n)
	return nil
}

func TestLoadWritesEveryRowInBoundedBlocks(t *testing.T) {
	cfg := smallConfig(3)
	ins := &memInserter{}
	var mu sync.Mutex
	progress := 0
	const blockRows = 50_000
	sum, err := Load(context.Background(), cfg, ins, LoadOptions{BlockRows: blockRows, Progress: func(n int) {
		mu.Lock()
		progress += n
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range sum.Tables {
		if ins.rows[tr.Table] != tr.Rows {
			t.Errorf("%s: inserted %d rows, summary says %d", tr.Table, ins.rows[tr.Table], tr.Rows)
		}
	}
	if progress != sum.Rows {
		t.Errorf("progress reported %d rows, want %d", progress, sum.Rows)
	}
	usage := ins.blocks["usage_daily"]
	if len(usage) < 2 {
		t.Fatalf("usage went in %d blocks, want several of about %d rows", len(usage), blockRows)
	}
	// A block closes after the chunk that crosses the limit: at most one
	// chunk (100 customers x 181 days) over it.
	for _, n := range usage {
		if n > blockRows+100*200 {
			t.Errorf("usage block of %d rows, want at most about %d", n, blockRows)
		}
	}
}

func TestLoadStopsAtTheFirstFailedInsert(t *testing.T) {
	ins := &memInserter{failAt: 3}
	_, err := Load(context.Background(), smallConfig(3), ins, LoadOptions{BlockRows: 20_000, Inserters: 1})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("want the insert error, got %v", err)
	}
	if ins.inserts != 3 {
		t.Errorf("%d inserts, want the load to stop at the failing third", ins.inserts)
	}
}

func TestUsageShiftScalesUsageFromItsDate(t *testing.T) {
	base := smallConfig(5)
	shifted := base
	shifted.Effects.UsageShift = 2
	shifted.Effects.UsageShiftFrom = base.Start.AddDate(0, 3, 0)
	ctx := context.Background()
	a, _, err := GenerateAll(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := GenerateAll(ctx, shifted)
	if err != nil {
		t.Fatal(err)
	}
	voice := func(u *Usage, before bool) float64 {
		s := 0.0
		for i, d := range u.Day {
			if d.Before(shifted.Effects.UsageShiftFrom) == before {
				s += float64(u.VoiceMinutes[i])
			}
		}
		return s
	}
	if x, y := voice(&a.Usage, true), voice(&b.Usage, true); x != y {
		t.Errorf("usage before the shift changed: %g -> %g", x, y)
	}
	ratio := voice(&b.Usage, false) / voice(&a.Usage, false)
	if ratio < 1.8 || ratio > 2.1 {
		t.Errorf("usage after the shift is %.2fx, want about 2x", ratio)
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Customers = 5000
	rows := 0
	start := time.Now()
	for b.Loop() {
		sum, err := Generate(context.Background(), cfg, func(*Batch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		rows += sum.Rows
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
}

func TestOddWindowsGenerateConsistentData(t *testing.T) {
	tests := []struct {
		name      string
		start     string
		months    int
		customers int
	}{
		{"leap day start", "2024-02-29", 2, 300},
		{"month end start", "2025-01-31", 1, 300},
		{"one customer", "2025-01-01", 1, 1},
		{"earliest start, longest window", "1980-01-01", 120, 40},
		{"latest start", "2090-12-31", 120, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Start, _ = time.Parse(time.DateOnly, tt.start)
			cfg.Months, cfg.Customers = tt.months, tt.customers
			b, sum, err := GenerateAll(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Customers != tt.customers || len(b.Customers.ID) != tt.customers || len(sum.MonthlyChurn) != tt.months {
				t.Fatalf("%d customers and %d months in the summary, want %d and %d", sum.Customers, len(sum.MonthlyChurn), tt.customers, tt.months)
			}
			end := cfg.Start.AddDate(0, cfg.Months, 0)
			for _, d := range b.Usage.Day {
				if d.Before(cfg.Start) || !d.Before(end) {
					t.Fatalf("usage on %s outside the window", d.Format(time.DateOnly))
				}
			}
		})
	}
}
