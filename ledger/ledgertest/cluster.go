package ledgertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// Cluster is a Postgres server of the test's own (initdb and pg_ctl, as the postgres user when the
// test runs as root) on a spare port, for tests that stop, kill or restart Postgres: never the shared
// one, which other packages test against at the same time. It is stopped and removed when t ends.
type Cluster struct {
	Port int
	t    testing.TB
	dir  string
}

// NewCluster initialises and starts a server with trust authentication for root. Without initdb or
// pg_ctl on PATH the test is skipped, saying so.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	for _, bin := range []string{"initdb", "pg_ctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("ledgertest: %s is not installed; this test needs a Postgres server of its own", bin)
		}
	}
	dir, err := os.MkdirTemp("", "bonusbot-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, dir: dir, Port: sparePort(t)}
	t.Cleanup(func() {
		c.pgctl("stop", "-m", "immediate") // already stopped is fine
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 { // Postgres refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("ledgertest: running as root without a postgres user to run Postgres as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.command("initdb", "-D", c.data(), "-U", "root", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("ledgertest: initdb: %v\n%s", err, out)
	}
	c.Start()
	return c
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// command runs bin as the postgres user when the test is root.
func (c *Cluster) command(bin string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func (c *Cluster) pgctl(args ...string) ([]byte, error) {
	return c.command("pg_ctl", append([]string{"-D", c.data(), "-w", "-t", "60"}, args...)...).CombinedOutput()
}

// Start starts the server and waits until it takes connections.
func (c *Cluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.Port, c.dir)
	if out, err := c.pgctl("start", "-l", filepath.Join(c.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		c.t.Fatalf("ledgertest: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server: mode "fast" disconnects clients and shuts down cleanly, "immediate" is a
// crash (recovery runs at the next start).
func (c *Cluster) Stop(mode string) {
	c.t.Helper()
	if out, err := c.pgctl("stop", "-m", mode); err != nil {
		c.t.Fatalf("ledgertest: pg_ctl stop: %v\n%s", err, out)
	}
}

// URL is database db on the server (created by ledger.Connect when missing).
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://root@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

func sparePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
