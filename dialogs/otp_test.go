package dialogs_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"bonusbot/dialogs"
	"bonusbot/ledger/ledgertest"
)

func share(phone string, id int64) dialogs.Input {
	return dialogs.Input{Contact: &dialogs.Contact{Phone: phone, UserID: id}}
}

// Codes go only to the operator's mobile numbers, whoever asks and however.
func TestCodesOnlyToTheOperatorsNumbers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+74951234567", 10) // a Moscow landline in the programme
	b.member(t, "+79161234567", 10)
	u := b.user(t, 200)
	want(t, u.send(share("+74951234567", 200)), "code.phone_range")
	u.link("+79161234567")
	want(t, u.press("1:add"), "add.ask")
	want(t, u.say("+1 202 555 0143"), "code.phone_range")
	for _, m := range b.sms.Sent() {
		if m.To != "+79161234567" {
			t.Errorf("a code went to %s", m.To)
		}
	}
}

// A pending code belongs to whoever asked: another user is told to wait and does not replace it.
func TestPendingCodeBelongsToItsAsker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 10)
	owner, intruder := b.user(t, 201), b.user(t, 202)
	want(t, owner.send(share("+79161234567", 201)), "code.sent")
	code := b.sms.LastCode("+79161234567")
	b.clock.Add(2 * time.Minute) // past the resend pause, inside the code's five minutes
	r := intruder.send(share("+79161234567", 202))
	if got := want(t, r, "code.too_soon").Lines[0].Args["Seconds"]; got != int64(180) {
		t.Errorf("the intruder waits %v s, want 180 (until the owner's code expires)", got)
	}
	if n := len(b.sms.Sent()); n != 1 {
		t.Errorf("%d SMS sent, want the owner's alone", n)
	}
	want(t, owner.say(code), "link.done")
}

// Per phone, from all users together, ten codes a local day. (The hourly limits are redis_rate's, on
// Redis's own clock, so they are lifted here to let the test's clock run through the day.)
func TestCodesPerPhonePerDay(t *testing.T) {
	t.Parallel()
	b := setupWith(t, dialogs.Options{CodesPerHour: 100})
	b.member(t, "+79161234567", 10)
	sent := 0
	for i := range 12 {
		u := b.user(t, int64(300+i)) // a different user each time: the phone's count is shared
		if ids(u.send(share("+79161234567", u.id)))[0] == "code.sent" {
			sent++
		}
		b.clock.Add(5*time.Minute + time.Second) // the last user's code has expired
	}
	if sent != 10 {
		t.Errorf("%d codes sent to one phone in a day, want 10", sent)
	}
	b.clock.Set(time.Date(2026, 3, 15, 0, 0, 1, 0, ledgertest.Moscow))
	want(t, b.user(t, 399).send(share("+79161234567", 399)), "code.sent")
}

// A user may have codes sent to at most three numbers a day that are not members yet.
func TestNewNumbersPerUserPerDay(t *testing.T) {
	t.Parallel()
	b := setupWith(t, dialogs.Options{CodesPerHour: 100})
	b.member(t, "+79161234567", 10)
	u := b.user(t, 210)
	u.link("+79161234567")
	for i := range 3 {
		want(t, u.press("1:add"), "add.ask")
		want(t, u.say(fmt.Sprintf("+7916765432%d", i)), "code.sent")
		u.cmd("cancel")
	}
	want(t, u.press("1:add"), "add.ask")
	want(t, u.say("+79167654329"), "code.limit")
	u.cmd("cancel")
	b.clock.Add(24 * time.Hour)
	want(t, u.press("1:add"), "add.ask")
	want(t, u.say("+79167654329"), "code.sent")
}

// Twenty wrong codes in a day lock the user (not the phone) out of codes until the next local day.
func TestWrongCodesPerUserPerDay(t *testing.T) {
	t.Parallel()
	b := setupWith(t, dialogs.Options{CodesPerHour: 100}) // 12:00 Moscow
	b.member(t, "+79161234567", 10)
	u := b.user(t, 220)
	midnight := time.Date(2026, 3, 15, 0, 0, 0, 0, ledgertest.Moscow)
	wrongs := 0
	for range 5 {
		want(t, u.send(share("+79161234567", 220)), "code.sent")
		wrong := fmt.Sprintf("%06d", (atoi(b.sms.LastCode("+79161234567"))+1)%1_000_000)
		for range 4 { // one short of killing the code
			r := u.say(wrong)
			wrongs++
			if wrongs == 20 {
				if got, until := want(t, r, "code.locked").Lines[0].Args["Minutes"], int64(math.Ceil(midnight.Sub(b.clock.Now()).Minutes())); got != until {
					t.Errorf("locked for %v min, want %d (until midnight)", got, until)
				}
			}
		}
		b.clock.Add(61 * time.Second)
	}
	b.member(t, "+79169876543", 10)
	want(t, u.send(share("+79169876543", 220)), "code.locked")
	b.clock.Add(12 * time.Hour)
	want(t, u.send(share("+79169876543", 220)), "code.sent")
}

// Redis keeps a code only as an HMAC under the server's secret, so a copy of Redis gives no code away.
func TestCodesAreKeptAsHMAC(t *testing.T) {
	t.Parallel()
	secret := []byte("a-secret-only-the-server-knows")
	b := setupWith(t, dialogs.Options{CodeSecret: secret})
	b.member(t, "+79161234567", 10)
	u := b.user(t, 230)
	want(t, u.send(share("+79161234567", 230)), "code.sent")
	code := b.sms.LastCode("+79161234567")
	stored, err := b.rdb.HGetAll(context.Background(), b.prefix+"otp:code:{+79161234567}").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("+79161234567|" + code))
	if stored["hash"] != hex.EncodeToString(m.Sum(nil)) || stored["salt"] != "" {
		t.Errorf("stored %v, want the HMAC of the code under the secret and nothing else of it", stored)
	}
	for k, v := range stored {
		if v == code {
			t.Errorf("field %s holds the code in clear", k)
		}
	}
}

// Users asking at once for a code to one phone: one gets it, the others are told to wait, and the
// pending code stays the one its owner received (no check-then-write race replaces it).
func TestConcurrentAsksForOnePhone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 10)
	const users = 8
	for i := range users {
		b.user(t, int64(240+i)).cmd("start") // each user's state and connections exist, so the asks below meet
	}
	replies := make([]dialogs.Reply, users)
	errs := make([]error, users)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range users {
		wg.Go(func() {
			<-ready
			id := int64(240 + i)
			replies[i], errs[i] = b.engine.Handle(context.Background(), dialogs.Input{Channel: "telegram", UserID: id, ChatID: id,
				LangCode: "ru", Contact: &dialogs.Contact{Phone: "+79161234567", UserID: id}})
		})
	}
	close(ready)
	wg.Wait()
	winner := -1
	for i, r := range replies {
		if errs[i] != nil {
			t.Fatalf("user %d: %v", 240+i, errs[i])
		}
		switch got := ids(r)[0]; {
		case got == "code.sent" && winner < 0:
			winner = i
		case got != "code.too_soon":
			t.Errorf("user %d got %s, want one code.sent and code.too_soon for the rest", 240+i, got)
		}
	}
	if n := len(b.sms.Sent()); n != 1 || winner < 0 {
		t.Fatalf("%d SMS sent (winner %d), want exactly one", n, winner)
	}
	want(t, b.user(t, int64(240+winner)).say(b.sms.LastCode("+79161234567")), "link.done")
}

// Per phone, from all users together, five codes an hour: a sixth user asking within the hour is
// refused, though each user asks only once. (The hour is redis_rate's, on Redis's clock, so the
// test's clock moves only past each code's five minutes.)
func TestCodesPerPhonePerHour(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 10)
	for i := range 6 {
		u := b.user(t, int64(260+i))
		wantID := "code.sent"
		if i == 5 {
			wantID = "code.limit"
		}
		want(t, u.send(share("+79161234567", u.id)), wantID)
		b.clock.Add(5*time.Minute + time.Second)
	}
	if n := len(b.sms.Sent()); n != 5 {
		t.Errorf("%d SMS to one phone within the hour, want 5", n)
	}
}

// Wrong codes sent at once (the Mini App's requests are not serialised per user as a chat's are)
// still get five tries at a code between them, not one each: the code dies after the fifth, later
// guesses are not compared with it (the user's count of wrong tries today shows how many were), and
// even the right code then fails.
func TestConcurrentWrongCodesGetFiveTries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.member(t, "+79161234567", 10)
	vis := dialogs.Visitor{Channel: "vk", UserID: 270, ChatID: 270, LangCode: "ru"}
	ctx := context.Background()
	if err := b.engine.StartLink(ctx, vis, "+79161234567"); err != nil {
		t.Fatal(err)
	}
	code := b.sms.LastCode("+79161234567")
	const guesses = 15
	errs := make([]error, guesses)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range guesses {
		wg.Go(func() {
			<-ready
			_, errs[i] = b.engine.ConfirmLink(ctx, vis, fmt.Sprintf("%06d", (atoi(code)+1+i)%1_000_000))
		})
	}
	close(ready)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, dialogs.ErrCodeWrong) && !errors.Is(err, dialogs.ErrCodeLocked) && !errors.Is(err, dialogs.ErrCodeExpired) {
			t.Errorf("guess %d: %v, want wrong, locked or expired", i, err)
		}
	}
	tried, err := b.rdb.Get(ctx, b.prefix+"otp:day:2026-03-14:wrong:{vk:270}").Int()
	if err != nil || tried > 5 {
		t.Errorf("wrong tries counted = %d, %v; want at most 5 of the %d guesses compared with the code", tried, err, guesses)
	}
	if _, err := b.engine.ConfirmLink(ctx, vis, code); err == nil {
		t.Error("the right code after five wrong ones linked, want the code dead")
	}
}
