package synth

import (
	"context"
	"fmt"
	"sync"
)

// Inserter writes one columnar block into a table: data[i] holds the values
// of columns[i]. *clickhouse.Client implements it.
type Inserter interface {
	InsertColumns(ctx context.Context, table string, columns []string, data []any) error
}

// LoadOptions tune how Load batches rows.
type LoadOptions struct {
	// BlockRows is how many usage_daily rows go into one insert; the other
	// tables are flushed with them. 0 means 1,000,000.
	BlockRows int
	// Inserters is how many blocks are written concurrently. 0 means 2.
	Inserters int
	// Progress, when set, is called with the number of rows of each block
	// once it is written. It is called from several goroutines.
	Progress func(rows int)
}

// Load generates the data set for cfg and writes it through ins in large
// columnar blocks, holding at most a few blocks in memory whatever the size
// of the population. It does not empty the tables first: the caller does.
// A failed insert stops the load and is returned; rows already written stay.
func Load(ctx context.Context, cfg Config, ins Inserter, opt LoadOptions) (Summary, error) {
	if opt.BlockRows <= 0 {
		opt.BlockRows = 1_000_000
	}
	if opt.Inserters <= 0 {
		opt.Inserters = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	full := make(chan *Batch, 1)
	free := make(chan *Batch, opt.Inserters+2)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for range opt.Inserters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range full {
				if ctx.Err() == nil {
					if err := insertBatch(ctx, ins, b); err != nil {
						fail(err)
					} else if opt.Progress != nil {
						opt.Progress(b.Rows())
					}
				}
				b.Reset()
				select {
				case free <- b:
				default:
				}
			}
		}()
	}

	acc := &Batch{}
	flush := func() error {
		if acc.Rows() == 0 {
			return nil
		}
		select {
		case full <- acc:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case acc = <-free:
		default:
			acc = &Batch{}
		}
		return nil
	}
	sum, err := Generate(ctx, cfg, func(b *Batch) error {
		acc.Append(b)
		// Summary statistics are kept by Generate; the accumulator only
		// carries rows.
		acc.stats = acc.stats[:0]
		if len(acc.Usage.CustomerID) >= opt.BlockRows {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	close(full)
	wg.Wait()
	if firstErr != nil {
		return sum, firstErr
	}
	return sum, err
}

// insertBatch writes each non-empty table of b as one block.
func insertBatch(ctx context.Context, ins Inserter, b *Batch) error {
	for _, bl := range b.Blocks() {
		if bl.Rows == 0 {
			continue
		}
		if err := ins.InsertColumns(ctx, bl.Table, bl.Columns, bl.Data); err != nil {
			return fmt.Errorf("load synthetic %s (%d rows): %w", bl.Table, bl.Rows, err)
		}
	}
	return nil
}
