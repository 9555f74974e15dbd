package notify

import (
	"testing"
	"time"
	"unicode/utf8"

	"bonusbot/ledger"
	"bonusbot/locales"
)

func TestGiftNoticeWords(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	texts, err := locales.New(msk, func() time.Time { return time.Date(2026, 12, 2, 12, 0, 0, 0, msk) })
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{texts: texts}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	gift := func(lots ...ledger.Lot) GiftArgs {
		a := GiftArgs{FromPhone: "+79161234567", Lots: lots}
		for _, l := range lots {
			a.Points += l.Points
		}
		return a
	}
	tests := []struct {
		name, lang string
		a          GiftArgs
		sms        bool
		want       string
	}{
		{"one lot", "ru", gift(ledger.Lot{ExpiresOn: day(2027, 12, 12), Points: 100}), false,
			"Вам подарили 100\u00a0баллов! Отправитель: +7 916 123-45-67. Срок: до 12\u00a0декабря\u00a02027."},
		{"every date, agreeing with its number", "ru", gift(ledger.Lot{ExpiresOn: day(2026, 12, 10), Points: 50}, ledger.Lot{ExpiresOn: day(2026, 12, 30), Points: 37}), false,
			"Вам подарили 87\u00a0баллов! Отправитель: +7 916 123-45-67. 50\u00a0баллов сгорят 10\u00a0декабря, 37\u00a0— 30\u00a0декабря."},
		{"21 балл сгорит", "ru", gift(ledger.Lot{ExpiresOn: day(2026, 12, 10), Points: 21}, ledger.Lot{ExpiresOn: day(2026, 12, 30), Points: 1}), false,
			"Вам подарили 22\u00a0балла! Отправитель: +7 916 123-45-67. 21\u00a0балл сгорит 10\u00a0декабря, 1\u00a0— 30\u00a0декабря."},
		{"English", "en", gift(ledger.Lot{ExpiresOn: day(2026, 12, 10), Points: 1}, ledger.Lot{ExpiresOn: day(2026, 12, 30), Points: 2}), false,
			"You got 3\u00a0points as a gift from +7 916 123-45-67! 1\u00a0point expires on 10\u00a0December, 2 on 30\u00a0December."},
		{"an old job with the nearest date alone", "ru", GiftArgs{FromPhone: "+79161234567", Points: 5, ExpiresOn: day(2027, 1, 5)}, false,
			"Вам подарили 5\u00a0баллов! Отправитель: +7 916 123-45-67. Срок: до 5\u00a0января\u00a02027."},
		{"SMS: the nearest date and the USSD code", "ru", gift(ledger.Lot{ExpiresOn: day(2027, 1, 5), Points: 2000}, ledger.Lot{ExpiresOn: day(2027, 9, 28), Points: 1000}), true,
			"Вам подарили 3\u00a0000\u00a0баллов от +7 916 123-45-67. Срок: до 5\u00a0января\u00a02027. Баланс: *111*455*0#"},
	}
	for _, tt := range tests {
		got := w.notice(tt.lang, tt.a, tt.sms)
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
		if tt.sms && utf8.RuneCountInString(got) > 134 {
			t.Errorf("%s: %d characters, over two Cyrillic SMS segments (134)", tt.name, utf8.RuneCountInString(got))
		}
	}
}
