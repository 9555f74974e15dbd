package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const token = "faults-token"

// server is a `bonusbot serve` process of the test's own.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	log  string // its stderr, shown when the test fails
	done chan struct{}
}

// startServe builds bonusbot and runs `serve` on c's database with env added to the defaults below;
// it returns once /readyz answers 200. The process is killed when t ends if it is still running.
func startServe(t *testing.T, c *cluster, env ...string) *server {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bonusbot")
	if out, err := exec.Command("go", "build", "-o", bin, "bonusbot/cmd/bonusbot").CombinedOutput(); err != nil {
		t.Fatalf("faults: go build: %v\n%s", err, out)
	}
	port := sparePort(t)
	s := &server{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), log: filepath.Join(t.TempDir(), "serve.log"), done: make(chan struct{})}
	logFile, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+c.url("bonusbot"),
		"REDIS_URL=redis://127.0.0.1:6379/14", // only /readyz pings it: BOT_MODE=off
		fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port),
		"INGEST_TOKEN="+token,
		"BOT_MODE=off",
		"TELEGRAM_BOT_TOKEN=",
	)
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait() // the exit status stays in s.cmd.ProcessState
		logFile.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(s.log)
			t.Logf("serve log (last 4 KB):\n%s", tail(b, 4096))
		}
	})
	s.waitReady(time.Minute)
	return s
}

// waitReady polls /readyz until it answers 200, failing t after limit.
func (s *server) waitReady(limit time.Duration) {
	s.t.Helper()
	deadline := time.After(limit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if status, _ := s.get("/readyz"); status == http.StatusOK {
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("faults: serve exited before it was ready: %v", s.cmd.ProcessState)
		case <-deadline:
			s.t.Fatalf("faults: serve not ready after %v", limit)
		case <-tick.C:
		}
	}
}

// terminate sends SIGTERM and returns the exit code, failing t if the process outlives limit.
func (s *server) terminate(limit time.Duration) int {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		s.t.Fatalf("faults: serve still running %v after SIGTERM", limit)
		return -1
	}
}

var client = &http.Client{Timeout: 2 * time.Minute} // longer than any server-side deadline here

// get sends a GET with the ingest token (which /healthz and /readyz ignore).
func (s *server) get(path string) (int, string) {
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends an ingest request and returns status and body; a transport error is status 0.
func (s *server) post(path, body string) (int, string) {
	req, err := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type batchResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   []struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	} `json:"rejected"`
}

// accrue posts a batch that must answer 200.
func (s *server) accrue(body string) batchResult {
	s.t.Helper()
	status, text := s.post("/api/v1/accruals", body)
	if status != http.StatusOK {
		s.t.Fatalf("POST accruals = %d %s, want 200", status, tail([]byte(text), 300))
	}
	var r batchResult
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		s.t.Fatalf("accruals answer %q: %v", tail([]byte(text), 300), err)
	}
	return r
}

// events renders a batch body from event objects.
func events(evs []string) string { return `{"events":[` + strings.Join(evs, ",") + `]}` }

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}
