package ingest_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the API an adapter: it talks to the ledger in the ledger's types, never to pgx.
func TestImports(t *testing.T) {
	t.Parallel()
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if imp != "bonusbot/ledger" && strings.Contains(first, ".") || strings.HasPrefix(imp, "bonusbot/") && imp != "bonusbot/ledger" {
			t.Errorf("ingest imports %s; it may import only the standard library and bonusbot/ledger", imp)
		}
	}
}
