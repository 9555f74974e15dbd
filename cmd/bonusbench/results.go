package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"
)

// Result is one line of bench-results.json.
type Result struct {
	Op        string  `json:"op"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	Note      string  `json:"note,omitempty"`
	// csv_import only: rows written per event, and its rate over csv_copy's, measured in one run.
	RowsPerOp   float64 `json:"rows_per_op,omitempty"`
	RatioToCopy float64 `json:"ratio_to_copy,omitempty"`
}

// latencies collects per-operation durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) percentile(p float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	slices.Sort(l.d)
	i := min(len(l.d)-1, int(p*float64(len(l.d))))
	return float64(l.d[i].Microseconds()) / 1000
}

// result turns count operations over elapsed, with their latencies, into a Result.
func result(op string, count int, elapsed time.Duration, l *latencies) Result {
	r := Result{Op: op, OpsPerSec: float64(count) / elapsed.Seconds()}
	if l != nil {
		r.P50ms, r.P99ms = l.percentile(0.50), l.percentile(0.99)
	}
	return r
}

func printTable(w io.Writer, results []Result) {
	fmt.Fprintf(w, "\n%-28s %14s %10s %10s  %s\n", "op", "ops/s", "p50 ms", "p99 ms", "note")
	for _, r := range results {
		fmt.Fprintf(w, "%-28s %14.0f %10.2f %10.2f  %s\n", r.Op, r.OpsPerSec, r.P50ms, r.P99ms, r.Note)
	}
}

func writeJSON(path string, results []Result) error {
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
