package ingest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"bonusbot/ledger"
	"bonusbot/ledger/ledgertest"
)

func TestSubscribers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.store.Enrol(t.Context(), "+79160000001", ""); err != nil {
		t.Fatal(err)
	}
	status, text := b.post(t, "/api/v1/subscribers", `{"subscribers":[
		{"phone":"+7 (916) 000-00-02"},
		{"phone":"89160000003","account_of":"+79160000002"},
		{"phone":"+79160000003","account_of":"+79160000002"},
		{"phone":"+79160000001","account_of":"+79160000002"},
		{"phone":"+79160000004","account_of":"+79169999999"},
		{"phone":"12345"},
		{"phone":"+79160000005","acount_of":"+79160000002"},
		{"phone":"+7916000000`+"\xff"+`6"},
		"+79160000007"
	]}`)
	if status != http.StatusOK {
		t.Fatalf("POST subscribers = %d %s", status, text)
	}
	var got struct {
		Enrolled, Rejected int
		Results            []struct {
			Phone     string   `json:"phone"`
			AccountID int64    `json:"account_id"`
			Phones    []string `json:"phones"`
			Error     string   `json:"error"`
		}
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	if got.Enrolled != 3 || got.Rejected != 6 || len(got.Results) != 9 {
		t.Fatalf("subscribers = %s, want 3 enrolled, 6 rejected", text)
	}
	r := got.Results
	if r[0].Phone != "+79160000002" || r[0].AccountID == 0 || r[1].AccountID != r[0].AccountID || r[2].AccountID != r[0].AccountID {
		t.Errorf("family account: %+v", r[:3])
	}
	if len(r[2].Phones) != 2 {
		t.Errorf("phones of the family account = %v, want 2", r[2].Phones)
	}
	// A misspelt field refuses the item: it must not enrol +79160000005 on an account of its own.
	for i, want := range []string{"phone_taken", "unknown_phone", "invalid_phone", "invalid_event", "invalid_event", "invalid_event"} {
		if r[3+i].Error != want {
			t.Errorf("result %d error = %q, want %q", 3+i, r[3+i].Error, want)
		}
	}
	if status, text := b.post(t, "/api/v1/subscribers", `{"subscribers":`); status != http.StatusBadRequest {
		t.Errorf("malformed subscribers = %d %s, want 400", status, text)
	}
	if _, err := b.store.AccountByPhone(t.Context(), "+79160000005"); !errors.Is(err, ledger.ErrUnknownPhone) {
		t.Errorf("AccountByPhone of the misspelt item = %v, want ErrUnknownPhone", err)
	}
	status, text = b.post(t, "/api/v1/subscribers", `{"subscribers":[],"acount_of":"+79160000002"}`)
	if status != http.StatusBadRequest || !strings.Contains(text, "acount_of") {
		t.Errorf("unknown top-level field = %d %s, want 400 naming it", status, text)
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}

func TestAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.accrue(t, `{"events":[
		{"id":"a1","phone":"+79161234567","category":"mobile","amount":"500.00","occurred_at":"2025-04-01T10:00:00Z"},
		{"id":"a2","phone":"+79161234567","category":"bank_card","amount":"3000.00","occurred_at":"2026-02-28T22:30:00Z"},
		{"id":"a3","phone":"+79161234567","category":"referral","occurred_at":"2025-01-01T10:00:00Z"}
	]}`)
	if got.Accepted != 2 || len(got.Rejected) != 1 || got.Rejected[0].Error != "expired_event" {
		t.Fatalf("setup batch: %+v, want a1 and a2 accepted, a3 (expired on 2026-01-01) refused", got)
	}
	get := func(phone string) (int, string) {
		return call(t, http.MethodGet, b.srv.URL+"/api/v1/accounts/"+url.PathEscape(phone), "Bearer "+token, "")
	}
	status, text := get("+7 (916) 123-45-67")
	if status != http.StatusOK {
		t.Fatalf("GET account = %d %s", status, text)
	}
	var acct struct {
		AccountID int64    `json:"account_id"`
		Phones    []string `json:"phones"`
		Balance   int64    `json:"balance"`
		Debt      int64    `json:"debt"`
		Lots      []struct {
			ExpiresOn string `json:"expires_on"`
			Points    int64  `json:"points"`
		} `json:"lots"`
		Operations []struct {
			Kind   string `json:"kind"`
			Points int64  `json:"points"`
			Detail string `json:"detail"`
		} `json:"operations"`
	}
	if err := json.Unmarshal([]byte(text), &acct); err != nil {
		t.Fatal(err)
	}
	// a2 at 01:30 Moscow on 1 March expires 2027-03-01.
	if acct.Balance != 200 || acct.Debt != 0 || len(acct.Phones) != 1 || acct.Phones[0] != "+79161234567" {
		t.Errorf("account = %s, want balance 200, one phone", text)
	}
	wantLots := "2026-04-01:100 2027-03-01:100"
	var lots []string
	for _, l := range acct.Lots {
		lots = append(lots, fmt.Sprintf("%s:%d", l.ExpiresOn, l.Points))
	}
	if strings.Join(lots, " ") != wantLots {
		t.Errorf("lots = %v, want %s", lots, wantLots)
	}
	if len(acct.Operations) != 2 || acct.Operations[0].Kind != "accrual" {
		t.Errorf("operations = %+v, want 2 accruals", acct.Operations)
	}
	for _, tt := range []struct {
		phone string
		want  int
	}{
		{"89161234567", http.StatusOK},
		{"+79990000000", http.StatusNotFound},
		{"not-a-phone", http.StatusBadRequest},
	} {
		if status, text := get(tt.phone); status != tt.want {
			t.Errorf("GET account %q = %d %s, want %d", tt.phone, status, text, tt.want)
		}
	}
}

// TestSubscribersFaultIs500: a database fault while one subscriber enrols answers 500 for the request,
// not 200 with that item "rejected"; the resend enrols everyone, once.
func TestSubscribersFaultIs500(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := `{"subscribers":[{"phone":"+79160000001"},{"phone":"+79160000002","account_of":"+79160000001"},{"phone":"+79160000003"}]}`
	heal := ledgertest.FailInserts(t, b.store.Pool(), "phones", "phone", "+79160000002")
	if status, text := b.post(t, "/api/v1/subscribers", body); status != http.StatusInternalServerError || strings.Contains(text, "injected") {
		t.Fatalf("subscribers with a fault on one = %d %s, want 500 without details", status, text)
	}
	heal()
	status, text := b.post(t, "/api/v1/subscribers", body)
	if status != http.StatusOK || !strings.Contains(text, `"enrolled":3,"rejected":0`) {
		t.Fatalf("resent subscribers = %d %s, want 3 enrolled", status, text)
	}
	one, err := b.store.AccountByPhone(t.Context(), "+79160000002")
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Phones) != 2 {
		t.Errorf("phones of the shared account = %v, want +79160000001 and +79160000002", one.Phones)
	}
	ledgertest.CheckInvariants(t, b.store.Pool())
}
