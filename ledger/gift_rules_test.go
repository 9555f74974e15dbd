package ledger

import (
	"errors"
	"testing"
	"time"
)

func TestGiftLimits(t *testing.T) {
	t.Parallel()
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, moscow)
	programme := giftRules{loc: moscow, limits: ProgrammeGiftLimits}
	twoADay := giftRules{loc: moscow, limits: GiftLimits{PerDay: 2}}
	none := giftRules{loc: moscow}
	tenRecipients := senderHistory{}
	for i := range 10 {
		tenRecipients.gifts = append(tenRecipients.gifts, pastGift{at: time.Date(2026, 3, 1+i, 12, 0, 0, 0, moscow), to: int64(i + 1)})
	}
	tests := []struct {
		name  string
		rules giftRules
		hist  senderHistory
		to    int64
		want  error
	}{
		{"first gift", programme, senderHistory{}, 1, nil},
		{"second gift today", programme, senderHistory{gifts: []pastGift{{now.Add(-time.Hour), 2}}}, 1, ErrGiftDailyLimit},
		{"gift at 00:00 today", programme, senderHistory{gifts: []pastGift{{time.Date(2026, 3, 14, 0, 0, 0, 0, moscow), 2}}}, 1, ErrGiftDailyLimit},
		{"last gift 23:59 yesterday", programme, senderHistory{gifts: []pastGift{{time.Date(2026, 3, 13, 23, 59, 0, 0, moscow), 2}}}, 1, nil},
		{"11th recipient", programme, tenRecipients, 11, ErrGiftMonthlyLimit},
		{"repeat recipient", programme, tenRecipients, 3, nil},
		{"ten recipients last month", programme, senderHistory{gifts: []pastGift{{time.Date(2026, 2, 28, 12, 0, 0, 0, moscow), 1}}}, 2, nil},
		{"second of two a day", twoADay, senderHistory{gifts: []pastGift{{now.Add(-time.Hour), 2}}}, 1, nil},
		{"third of two a day", twoADay, senderHistory{gifts: []pastGift{{now.Add(-2 * time.Hour), 2}, {now.Add(-time.Hour), 3}}}, 1, ErrGiftDailyLimit},
		{"two a day, 11th recipient", twoADay, tenRecipients, 11, nil},
		{"no limits", none, senderHistory{gifts: append(tenRecipients.gifts, pastGift{now.Add(-time.Hour), 2})}, 12, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.rules.check(tt.hist, tt.to, now); !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Errorf("%+v.check(%+v, %d) = %v, want %v", tt.rules.limits, tt.hist, tt.to, got, tt.want)
			}
		})
	}
}
