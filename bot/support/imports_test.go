package support_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports: the relay reaches the database only through the ledger, and the bot only through the
// interface it declares (bonusbot/bot imports this package's consumer side, never the reverse).
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "bonusbot/bot/support").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.HasPrefix(imp, "github.com/jackc/pgx") || imp == "bonusbot/bot" || strings.HasPrefix(imp, "github.com/redis/") {
			t.Errorf("bonusbot/bot/support imports %s", imp)
		}
	}
}
