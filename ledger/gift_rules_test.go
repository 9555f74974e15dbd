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
	rules, now := giftLimits{loc: moscow}, time.Date(2026, 3, 14, 12, 0, 0, 0, moscow)
	tenRecipients := senderHistory{}
	for i := range 10 {
		tenRecipients.gifts = append(tenRecipients.gifts, pastGift{at: time.Date(2026, 3, 1+i, 12, 0, 0, 0, moscow), to: int64(i + 1)})
	}
	tests := []struct {
		name string
		hist senderHistory
		to   int64
		want error
	}{
		{"first gift", senderHistory{}, 1, nil},
		{"second gift today", senderHistory{gifts: []pastGift{{now.Add(-time.Hour), 2}}}, 1, ErrGiftDailyLimit},
		{"gift at 00:00 today", senderHistory{gifts: []pastGift{{time.Date(2026, 3, 14, 0, 0, 0, 0, moscow), 2}}}, 1, ErrGiftDailyLimit},
		{"last gift 23:59 yesterday", senderHistory{gifts: []pastGift{{time.Date(2026, 3, 13, 23, 59, 0, 0, moscow), 2}}}, 1, nil},
		{"11th recipient", tenRecipients, 11, ErrGiftMonthlyLimit},
		{"repeat recipient", tenRecipients, 3, nil},
		{"ten recipients last month", senderHistory{gifts: []pastGift{{time.Date(2026, 2, 28, 12, 0, 0, 0, moscow), 1}}}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rules.check(tt.hist, tt.to, now); !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Errorf("check(%+v, %d) = %v, want %v", tt.hist, tt.to, got, tt.want)
			}
		})
	}
}
