package dialogs_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the layers apart: the ledger knows no Telegram, Redis or text; nothing below bot reaches Telegram, even indirectly, and only
// ledger (and ledgertest) import pgx directly.
func TestImports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkg, format string // format: all deps, or direct imports only
		forbidden   []string
	}{
		{"bonusbot/dialogs", "{{join .Deps \"\\n\"}}", []string{"github.com/go-telegram/", "bonusbot/bot", "bonusbot/locales"}},
		{"bonusbot/locales", "{{join .Deps \"\\n\"}}", []string{"github.com/go-telegram/"}},
		{"bonusbot/ledger", "{{join .Deps \"\\n\"}}", []string{"github.com/go-telegram/", "github.com/redis/", "github.com/nicksnyder/", "bonusbot/dialogs", "bonusbot/bot"}},
		{"bonusbot/bot/sms", "{{join .Deps \"\\n\"}}", []string{"github.com/go-telegram/"}},
		{"bonusbot/dialogs", "{{join .Imports \"\\n\"}}", []string{"github.com/jackc/pgx"}},
		{"bonusbot/bot", "{{join .Imports \"\\n\"}}", []string{"github.com/jackc/pgx"}},
		{"bonusbot/locales", "{{join .Imports \"\\n\"}}", []string{"github.com/jackc/pgx"}},
	}
	for _, tt := range tests {
		out, err := exec.Command("go", "list", "-f", tt.format, tt.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", tt.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range tt.forbidden {
				if strings.HasPrefix(dep, bad) {
					t.Errorf("%s depends on %s", tt.pkg, dep)
				}
			}
		}
	}
}
