package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runProbe asks this container's own server for /readyz (or --path) on HTTP_ADDR and fails unless it
// answers 200: the health check of images without a shell or curl (distroless), as in compose's
// healthcheck: ["CMD", "/bonusbot", "probe"].
func runProbe(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	path := fs.String("path", "/readyz", "the path to GET: /readyz (ready to serve) or /healthz (alive)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	host, port, _ := net.SplitHostPort(cfg.HTTPAddr) // Load checked it
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + *path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10)) // what it says is shown; its loss is not an error
	fmt.Fprintf(out, "%s %s\n%s", url, resp.Status, body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe: %s answered %s", *path, resp.Status)
	}
	return nil
}
