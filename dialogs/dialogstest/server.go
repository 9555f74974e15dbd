package dialogstest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server of the test's own on a spare port, for tests that stop, kill or restart
// Redis: never the shared one, which other packages use at the same time. It keeps nothing on disk,
// so a restart comes back empty, as a managed Redis that failed over without persistence would.
type Server struct {
	Addr string
	t    testing.TB
	dir  string
	args []string
	cmd  *exec.Cmd
}

// NewServer starts a redis-server; it is killed when t ends. Without redis-server on PATH the test
// is skipped, saying so.
func NewServer(t testing.TB) *Server {
	t.Helper()
	bin := redisServer(t)
	s := &Server{t: t, dir: t.TempDir()}
	port := SparePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.dir, "--save", "",
		"--appendonly", "no", "--protected-mode", "no"}
	s.start(bin)
	t.Cleanup(s.Kill)
	return s
}

func redisServer(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("dialogstest: redis-server is not installed (apt-get install redis-server); this test needs a Redis of its own")
	}
	return bin
}

func (s *Server) start(bin string) {
	s.t.Helper()
	s.cmd = exec.Command(bin, s.args...)
	// The server dies with the test binary even if the binary is killed before its cleanups run.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("dialogstest: redis-server: %v", err)
	}
	if err := waitPing(s.Addr, 15*time.Second); err != nil {
		s.Kill()
		s.t.Fatalf("dialogstest: redis-server on %s: %v\n%s", s.Addr, err, out.String())
	}
}

// Kill stops the server at once (SIGKILL), as a crash would; safe to call twice.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait() // its exit status is the kill
	s.cmd = nil
}

// Start starts a killed server again on the same port, empty.
func (s *Server) Start() {
	s.t.Helper()
	bin := redisServer(s.t)
	s.start(bin)
}

// URL is the server as a REDIS_URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Client is a client of the server, closed when t ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, DialTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func waitPing(addr string, within time.Duration) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		err := rdb.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SparePort is a TCP port nothing listens on at the moment, for a server the test starts.
func SparePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Cluster starts a Redis Cluster of three masters without replicas (redis-server --cluster-enabled on
// spare ports, joined by redis-cli --cluster create) and returns a client of it and a key prefix;
// the servers are killed when t ends. Without redis-server the test is skipped, saying so.
func Cluster(t testing.TB) (*redis.ClusterClient, string) {
	t.Helper()
	bin := redisServer(t)
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("dialogstest: redis-cli is not installed; a Redis Cluster test needs it to join its nodes")
	}
	dir := t.TempDir()
	var addrs []string
	for i := range 3 {
		port, bus := SparePort(t), SparePort(t)
		s := &Server{t: t, dir: dir, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		s.args = []string{"--port", strconv.Itoa(port), "--cluster-port", strconv.Itoa(bus), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "no"}
		s.start(bin)
		t.Cleanup(s.Kill)
		addrs = append(addrs, s.Addr)
	}
	create := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("dialogstest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := waitClusterOK(addrs, 30*time.Second); err != nil {
		t.Fatalf("dialogstest: cluster on %v: %v", addrs, err)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DialTimeout: time.Second, ReadTimeout: 2 * time.Second,
		WriteTimeout: 2 * time.Second, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	return rdb, "test:" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ":"
}

// waitClusterOK waits until every node says cluster_state:ok (the slots are assigned and the nodes
// have met each other).
func waitClusterOK(addrs []string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for _, a := range addrs {
		rdb := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := rdb.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			select {
			case <-ctx.Done():
				rdb.Close()
				return fmt.Errorf("cluster_state not ok: %v %q", err, info)
			case <-time.After(100 * time.Millisecond):
			}
		}
		rdb.Close()
	}
	return nil
}
