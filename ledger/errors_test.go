package ledger_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEverySentinelIsARefusal: each exported Err… of the ledger is declared with refusal(), so
// IsRefusal knows it. One declared with errors.New would be taken for a fault: a batch would answer
// 500 for it on every resend, and the bot would apologise instead of saying no.
func TestEverySentinelIsARefusal(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if !strings.HasPrefix(id.Name, "Err") || i >= len(spec.Values) {
					continue
				}
				found++
				if !isCallOf(spec.Values[i], "refusal") {
					t.Errorf("%s: %s is not declared with refusal(…)", fset.Position(id.Pos()), id.Name)
				}
			}
			return true
		})
	}
	if found < 20 {
		t.Errorf("found %d sentinels, want the ledger's 20 or more: is the test reading the right files?", found)
	}
}

func isCallOf(e ast.Expr, fn string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := call.Fun.(*ast.Ident)
	return ok && id.Name == fn
}
