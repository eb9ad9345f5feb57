// Command idleconns opens N PostgreSQL sessions, runs one query on each, and holds them idle until interrupted or
// -hold passes: bench/pgbench.sh measures the proxy's RSS with 1,000 idle sessions this way.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func main() {
	url := flag.String("url", "", "connection URL")
	n := flag.Int("n", 1000, "sessions")
	hold := flag.Duration("hold", time.Minute, "how long to hold them")
	flag.Parse()
	ctx := context.Background()
	conns := make([]*pgconn.PgConn, *n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, *n)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := pgconn.Connect(ctx, *url)
			if err != nil {
				errs <- err
				return
			}
			if _, err := c.Exec(ctx, "select 1").ReadAll(); err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	fmt.Println("ready", *n)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	select {
	case <-sig:
	case <-time.After(*hold):
	}
	for _, c := range conns {
		c.Close(ctx)
	}
}
