// Package loadgen sends HTTP load for benchmarks: an open loop at a fixed
// rate, which measures latency as a client sees it (each request timed from
// when it was due, so a stall counts against every request queued behind it),
// or a closed loop of workers back to back, which measures peak throughput.
//
// It runs in its own process (cmd/loadgen) so that the load does not share
// the scheduler, heap and garbage collector of the server it measures.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Target says what to request: URL(i) is the i-th request's URL, Header is
// sent with each.
type Target struct {
	URL    func(i int) string
	Header http.Header
}

// Result sums up a load: requests done and failed (a transport error or a
// status other than 200), their rate, and latency percentiles.
type Result struct {
	Requests int     `json:"requests"`
	Failed   int     `json:"failed"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	// FirstError is the first failure, for a message a user can act on.
	FirstError string `json:"first_error,omitempty"`
}

// NewClient returns a client keeping up to conns connections to one host.
func NewClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns},
		Timeout: 10 * time.Second}
}

type recorder struct {
	mu    sync.Mutex
	lat   []time.Duration
	fails int
	first string
}

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, d)
	if err != nil {
		if r.fails == 0 {
			r.first = err.Error()
		}
		r.fails++
	}
}

func (r *recorder) result(took time.Duration) Result {
	slices.Sort(r.lat)
	res := Result{Requests: len(r.lat), Failed: r.fails, Seconds: took.Seconds(), FirstError: r.first}
	if len(r.lat) == 0 {
		return res
	}
	res.RPS = float64(len(r.lat)) / took.Seconds()
	res.P50Ms, res.P99Ms, res.MaxMs = percentile(r.lat, 0.50), percentile(r.lat, 0.99), percentile(r.lat, 1)
	return res
}

// percentile of sorted latencies, in milliseconds (nearest rank).
func percentile(sorted []time.Duration, p float64) float64 {
	i := min(len(sorted)-1, int(p*float64(len(sorted))))
	return float64(sorted[i].Microseconds()) / 1000
}

func fetch(ctx context.Context, c *http.Client, t Target, i int) error {
	url := t.URL(i)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header = t.Header.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// Open sends rate requests per second for d and waits for all of them.
func Open(ctx context.Context, c *http.Client, t Target, rate int, d time.Duration) Result {
	n := int(d.Seconds() * float64(rate))
	rec := &recorder{lat: make([]time.Duration, 0, n)}
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := fetch(ctx, c, t, i)
			rec.add(time.Since(due), err)
		}()
	}
	wg.Wait()
	return rec.result(time.Since(start))
}

// Closed runs workers sending requests back to back for d.
func Closed(ctx context.Context, c *http.Client, t Target, workers int, d time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	rec := &recorder{}
	var wg sync.WaitGroup
	var next atomic.Int64
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				t0 := time.Now()
				err := fetch(ctx, c, t, i)
				if ctx.Err() != nil {
					return // cut by the deadline: neither a result nor a failure
				}
				rec.add(time.Since(t0), err)
			}
		}()
	}
	wg.Wait()
	return rec.result(time.Since(start))
}
