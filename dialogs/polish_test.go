package dialogs_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"bonusbot/dialogs"
)

func TestProbeWarningBeforeThePause(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 500)
	u := b.user(t, 401)
	u.link("+79161234567")
	want(t, u.cmd("gift"), "gift.ask_phone")
	for i := range 4 {
		r := u.say(fmt.Sprintf("+7916999000%d", i))
		want(t, r, "gift.not_member")
		warned := slices.Contains(lineIDsOf(r), "gift.probe_warning")
		if warned != (i == 3) {
			t.Errorf("lookup %d: warned = %v, want a warning only before the last allowed lookup", i+1, warned)
		}
	}
	want(t, u.say("+79169990009"), "gift.not_member")
	want(t, u.cmd("gift"), "gift.paused")
}

// A blocked account is told so before any confirmation is offered, for gifts and redeems alike.
func TestBlockedToldBeforeConfirmation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.catalog(t)
	acct := b.member(t, "+79161234567", 5000)
	u := b.user(t, 402)
	u.link("+79161234567")
	if err := b.store.SetBlocked(context.Background(), acct, true); err != nil {
		t.Fatal(err)
	}
	want(t, u.cmd("gift"), "refusal.blocked")
	want(t, u.say("22"), "refusal.blocked")
	r := u.press("1:it:22")
	want(t, r, "refusal.blocked")
	if slices.Contains(lineIDsOf(r), "redeem.confirm") {
		t.Error("a blocked account was offered a confirmation")
	}
}

// lineIDsOf is every line id of every message of r.
func lineIDsOf(r dialogs.Reply) []string {
	var out []string
	for _, o := range r.Outputs {
		for _, l := range o.Lines {
			out = append(out, l.ID)
		}
	}
	return out
}
