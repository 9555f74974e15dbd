package ledger_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A migration numbered below one that main already carries never runs on a database that applied the
// higher one: goose refuses it as out of order, and `migrate` stops. Branches pick their numbers apart,
// so the check is on main's history: in the order migrations were added (first parent), versions rise.
func TestMigrationsAddedInVersionOrder(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("git", "log", "--first-parent", "--no-renames", "--diff-filter=A", "--reverse",
		"--format=tformat:@", "--name-only", "--", "migrations").Output()
	if err != nil {
		t.Skipf("no git history to check the migrations' order against (%v)", err)
	}
	present, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(present) == 0 {
		t.Fatalf("migrations: %v %v", present, err)
	}
	highest, highestName, commit := -1, "", 0
	for _, line := range strings.Split(string(out), "\n") {
		switch line = strings.TrimSpace(line); {
		case line == "":
		case line == "@":
			commit++
		default:
			name := filepath.Base(line)
			if _, err := os.Stat(filepath.Join("migrations", name)); err != nil {
				continue // renamed or removed since
			}
			v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
			if err != nil {
				t.Fatalf("migration %s has no version: %v", name, err)
			}
			if v < highest {
				t.Errorf("migration %s was added after %s but is numbered below it: a database at %d refuses it", name, highestName, highest)
			}
			if v > highest {
				highest, highestName = v, name
			}
		}
	}
	if commit == 0 {
		t.Skip("git history holds no migration (a shallow clone?)")
	}
}
