package sms

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGateway(t *testing.T) {
	t.Parallel()
	var got struct{ To, Text string }
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	g := NewGateway(srv.URL, srv.Client())
	if err := g.Send(context.Background(), "+79161234567", "Код: 123456"); err != nil {
		t.Fatalf("Send = %v, want nil", err)
	}
	if got.To != "+79161234567" || got.Text != "Код: 123456" {
		t.Errorf("gateway got %+v", got)
	}
	status = http.StatusServiceUnavailable
	if err := g.Send(context.Background(), "+79161234567", "x"); err == nil {
		t.Error("Send after 503 = nil, want an error")
	}
}
