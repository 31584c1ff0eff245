package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tickbench/tickbench/bench"
)

const metricsHelp = "serve Prometheus metrics at http://ADDR/metrics while running (e.g. 127.0.0.1:9464; port 0 picks a free one)"

func metricsFlag(fs *flag.FlagSet) *string { return fs.String("metrics-addr", "", metricsHelp) }

// serveMetrics serves live's metrics on addr until stop is called; with no
// addr it does nothing and returns a nil Live.
func serveMetrics(addr string, env environment) (*bench.Live, func(), error) {
	if addr == "" {
		return nil, func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--metrics-addr %q: %w (allowed host:port this machine can listen on)", addr, err)}
	}
	live := &bench.Live{}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if err := live.WriteMetrics(w); err != nil {
			fmt.Fprintln(env.stderr, "tickbench: serving metrics:", err)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(env.stderr, "tickbench: metrics server:", err)
		}
	}()
	fmt.Fprintf(env.stderr, "metrics    http://%s/metrics\n", ln.Addr())
	return live, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx) //nolint:errcheck // closing at exit; a slow scrape is cut
		<-done
	}, nil
}
