package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cluster is a Postgres server of the test's own, which it may stop, crash and freeze.
type cluster struct {
	t      *testing.T
	bin    string // directory of initdb and pg_ctl
	dir    string // owns data/ and the socket
	port   int
	runAs  string // "postgres" when the test runs as root (initdb refuses root), else ""
	frozen []int  // pids stopped with SIGSTOP, to resume in cleanup
}

// serverBinaries finds initdb and pg_ctl on PATH or in the usual Debian place.
func serverBinaries() (string, bool) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), true
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1]), true
	}
	return "", false
}

// startCluster initdbs and starts a cluster on a spare port; it is stopped and removed when t ends.
// It skips t only when the server binaries are missing, saying so.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin, ok := serverBinaries()
	if !ok {
		t.Skip("faults: initdb and pg_ctl not found (on PATH or in /usr/lib/postgresql/*/bin); " +
			"install the PostgreSQL server package to run this proof")
	}
	c := &cluster{t: t, bin: bin, port: sparePort(t)}
	dir, err := os.MkdirTemp("", "bonusbot-faults-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("faults: remove %s: %v", dir, err)
		}
	})
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("faults: running as root, initdb needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.runAs = "postgres"
	}
	if out, err := c.command("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("faults: initdb: %v\n%s", err, out)
	}
	c.start()
	t.Cleanup(func() {
		c.thaw()
		// Immediate: the cluster is thrown away, and a frozen or crashed one would not stop cleanly.
		if out, err := c.pgctl("stop", "-m", "immediate").CombinedOutput(); err != nil && !strings.Contains(string(out), "Is server running?") {
			t.Errorf("faults: pg_ctl stop: %v\n%s", err, out)
		}
	})
	return c
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

// command runs a server binary, as postgres when the test is root.
func (c *cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.runAs != "" {
		return exec.Command("runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *cluster) pgctl(args ...string) *exec.Cmd {
	return c.command("pg_ctl", append([]string{"-D", c.data(), "-w"}, args...)...)
}

// start starts the server and waits until it accepts connections (pg_ctl -w).
func (c *cluster) start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60", c.port, c.dir)
	if out, err := c.pgctl("start", "-o", opts, "-l", filepath.Join(c.dir, "server.log")).CombinedOutput(); err != nil {
		c.t.Fatalf("faults: pg_ctl start: %v\n%s", err, out)
	}
}

// crash stops the server as a power cut would: every connection drops at once.
func (c *cluster) crash() {
	c.t.Helper()
	if out, err := c.pgctl("stop", "-m", "immediate").CombinedOutput(); err != nil {
		c.t.Fatalf("faults: pg_ctl stop -m immediate: %v\n%s", err, out)
	}
}

// freeze stops every process of the server with SIGSTOP: connections stay open and nothing answers,
// as with a hung host or a stalled disk.
func (c *cluster) freeze() {
	c.t.Helper()
	pids, err := c.pids()
	if err != nil {
		c.t.Fatalf("faults: freeze: %v", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			c.t.Fatalf("faults: SIGSTOP %d: %v", pid, err)
		}
		c.frozen = append(c.frozen, pid)
	}
}

// thaw resumes what freeze stopped.
func (c *cluster) thaw() {
	for _, pid := range c.frozen {
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
			c.t.Errorf("faults: SIGCONT %d: %v", pid, err)
		}
	}
	c.frozen = nil
}

// pids are the postmaster's (from postmaster.pid) and its children's, read from /proc.
func (c *cluster) pids() ([]int, error) {
	raw, err := os.ReadFile(filepath.Join(c.data(), "postmaster.pid"))
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	postmaster, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{postmaster}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue // the process has gone
		}
		// The fields after the command name (which may hold spaces) start with state, then ppid.
		_, rest, ok := strings.Cut(string(b), ") ")
		fields := strings.Fields(rest)
		if !ok || len(fields) < 2 || fields[1] != strconv.Itoa(postmaster) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(stat)))
		if err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// url is the cluster's database db.
func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// pool is a small pool on db for the test's own checks, closed when t ends.
func (c *cluster) pool(db string) *pgxpool.Pool {
	c.t.Helper()
	cfg, err := pgxpool.ParseConfig(c.url(db) + "&pool_max_conns=2&connect_timeout=5")
	if err != nil {
		c.t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(pool.Close)
	return pool
}

// sparePort is a TCP port nothing listens on right now.
func sparePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
