// The module's layering, checked for every package. Imports run cmd → bot → dialogs → ledger: an outer
// package may import an inner one, never the reverse. The ledger knows no Telegram, Redis or i18n;
// nothing below bot reaches Telegram, even indirectly. pgx, the database driver, is imported only by
// the ledger (and ledgertest), by the River wiring (every package that runs or inserts River jobs, whose
// transactions are pgx.Tx: bot/notify, bot/expiry, bot/fulfil), and by the commands that hand the
// ledger's pool to both or administer their own database (cmd/bonusbot with its fault tests,
// cmd/bonusbench); every other package reaches the database through ledger.Store.
package bonusbot_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goPackage is what go list says of one package.
type goPackage struct {
	ImportPath                         string
	Imports, TestImports, XTestImports []string
	Deps                               []string // every package it depends on, transitively
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; is the test running at the module root?", len(pkgs))
	}
	return pkgs
}

func TestLayers(t *testing.T) {
	t.Parallel()
	// Each rule: packages under a path may not depend, even indirectly, on packages under these paths.
	rules := []struct {
		under     string
		forbidden []string
	}{
		{"bonusbot/ledger", []string{"bonusbot/dialogs", "bonusbot/bot", "bonusbot/locales", "bonusbot/cmd",
			"github.com/go-telegram/", "github.com/redis/", "github.com/nicksnyder/"}},
		{"bonusbot/dialogs", []string{"bonusbot/bot", "bonusbot/locales", "bonusbot/cmd", "github.com/go-telegram/"}},
		{"bonusbot/locales", []string{"bonusbot/bot", "bonusbot/cmd", "github.com/go-telegram/"}},
		{"bonusbot/bot/sms", []string{"github.com/go-telegram/"}},
		{"bonusbot/bot", []string{"bonusbot/cmd"}},
	}
	for _, p := range listPackages(t) {
		for _, r := range rules {
			if !within(p.ImportPath, r.under) {
				continue
			}
			for _, dep := range p.Deps {
				for _, bad := range r.forbidden {
					if within(dep, strings.TrimSuffix(bad, "/")) || strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad) {
						t.Errorf("%s depends on %s", p.ImportPath, dep)
					}
				}
			}
		}
	}
}

func TestOnlyTheLedgerAndItsWiringImportPgx(t *testing.T) {
	t.Parallel()
	allowed := []string{"bonusbot/ledger", "bonusbot/ledger/ledgertest", "bonusbot/cmd/bonusbot", "bonusbot/cmd/bonusbench"}
	riverWiring := 0
	for _, p := range listPackages(t) {
		ownImports := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		if slices.ContainsFunc(allowed, func(a string) bool { return within(p.ImportPath, a) }) {
			continue
		}
		if slices.Contains(p.Imports, "github.com/riverqueue/river") {
			riverWiring++
			continue
		}
		for _, imp := range ownImports {
			if strings.HasPrefix(imp, "github.com/jackc/pgx") || strings.HasSuffix(imp, "/riverpgxv5") {
				t.Errorf("%s imports %s; only %v and River's wiring may", p.ImportPath, imp, allowed)
			}
		}
	}
	if riverWiring < 3 { // bot/notify, bot/expiry, bot/fulfil: a rule that exempts nobody checks nothing
		t.Errorf("found %d packages running River jobs, want at least 3", riverWiring)
	}
}

// within says whether pkg is path or a package under it.
func within(pkg, path string) bool {
	return pkg == path || strings.HasPrefix(pkg, path+"/")
}
