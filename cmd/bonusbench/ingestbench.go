package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"bonusbot/ledger/ingest"
)

// httpIngest posts batches of 1,000 new events to the ingest API over real HTTP on loopback.
func (b *bench) httpIngest(ctx context.Context) ([]Result, error) {
	const (
		batchSize = 1000
		clients   = 2
	)
	batches := max(4, min(40, b.cfg.accounts/batchSize))
	const token = "bench-token"
	api := ingest.New(b.store, token, slog.New(slog.NewTextHandler(io.Discard, nil)), ingest.Options{MaxInflight: max(clients, b.cfg.workers)})
	srv := httptest.NewServer(api)
	defer srv.Close()

	type event struct {
		ID         string `json:"id"`
		Phone      string `json:"phone"`
		Category   string `json:"category"`
		Amount     string `json:"amount"`
		OccurredAt string `json:"occurred_at"`
	}
	bodies := make([][]byte, batches)
	when := b.now.UTC().Format(time.RFC3339)
	for i := range bodies {
		evs := make([]event, batchSize)
		for k := range evs {
			n := i*batchSize + k
			evs[k] = event{ID: fmt.Sprintf("http-%d", n), Phone: phoneOf(n % b.cfg.accounts), Category: "mobile", Amount: "250.00", OccurredAt: when}
		}
		body, err := json.Marshal(map[string]any{"events": evs})
		if err != nil {
			return nil, err
		}
		bodies[i] = body
	}
	var (
		next     atomic.Int64
		lat      latencies
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= batches {
					return
				}
				t0 := time.Now()
				err := postBatch(ctx, srv.URL, token, bodies[i], batchSize)
				lat.add(time.Since(t0))
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("http ingest: %w", firstErr)
	}
	r := result("http_ingest", batches*batchSize, time.Since(start), &lat)
	r.Note = fmt.Sprintf("events/s; %d batches of %d from %d clients; latency per batch", batches, batchSize, clients)
	return []Result{r}, nil
}

func postBatch(ctx context.Context, url, token string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/accruals", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			ID    string `json:"id"`
			Error string `json:"error"`
		} `json:"rejected"`
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if out.Accepted != want {
		return fmt.Errorf("accepted %d of %d: %v", out.Accepted, want, out.Rejected)
	}
	return nil
}
