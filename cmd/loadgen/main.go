// Command loadgen sends HTTP GET load for the API benchmarks (serve's
// api_bench_test.go builds and runs it) from its own process, so that the
// load generator does not share the server's Go scheduler. It prints one JSON
// object (package loadgen's Result) on stdout.
//
//	loadgen -url 'http://127.0.0.1:8080/v1/customers/CUST%08d/score' -ids 1000000 \
//	        -header 'Authorization: Bearer KEY' -rate 1000 -duration 3s
//
// With -rate it is an open loop (latency at a fixed rate); with -workers, a
// closed loop (peak throughput). A %d in -url takes a customer number that
// walks 0..ids-1 in a scattered order; -url may be given several times, the
// requests cycling through them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/telcoretain/churn/internal/loadgen"
)

type urlList []string

func (u *urlList) String() string     { return strings.Join(*u, " ") }
func (u *urlList) Set(s string) error { *u = append(*u, s); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var urls urlList
	fs.Var(&urls, "url", "URL to GET, may hold one %d (repeatable)")
	ids := fs.Int("ids", 1, "numbers a %d in -url walks through")
	header := fs.String("header", "", `header sent with each request, "Name: value"`)
	rate := fs.Int("rate", 0, "open loop: requests per second")
	workers := fs.Int("workers", 0, "closed loop: concurrent workers")
	d := fs.Duration("duration", 3*time.Second, "how long to send")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case len(urls) == 0:
		return errors.New("-url: at least one is needed")
	case *ids < 1:
		return fmt.Errorf("-ids %d: want 1 or more", *ids)
	case (*rate > 0) == (*workers > 0):
		return fmt.Errorf("-rate %d, -workers %d: want exactly one of them above 0", *rate, *workers)
	case *d <= 0:
		return fmt.Errorf("-duration %v: want above 0", *d)
	}
	t := loadgen.Target{Header: http.Header{}, URL: func(i int) string {
		u := urls[i%len(urls)]
		if strings.Contains(u, "%") {
			// 7717 is prime to any -ids without it as a factor: consecutive
			// requests hit customers far apart, as real traffic does.
			return fmt.Sprintf(u, (i*7717)%*ids)
		}
		return u
	}}
	if *header != "" {
		name, value, ok := strings.Cut(*header, ":")
		if !ok {
			return fmt.Errorf("-header %q: want \"Name: value\"", *header)
		}
		t.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var res loadgen.Result
	if *rate > 0 {
		res = loadgen.Open(ctx, loadgen.NewClient(256), t, *rate, *d)
	} else {
		res = loadgen.Closed(ctx, loadgen.NewClient(*workers), t, *workers, *d)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}
