package sms

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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

// A gateway that wants its key in the URL's query: a failed send is logged with its error, which must
// not carry that key (net/http puts the whole URL, query included, in its errors).
func TestGatewayErrorHidesTheURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more: the send fails before any answer
	g := NewGateway(srv.URL+"/send?api_key=sms-secret", nil)
	err := g.Send(context.Background(), "+79161234567", "x")
	if err == nil || strings.Contains(err.Error(), "sms-secret") {
		t.Errorf("Send to a gateway that is down = %v, want an error without the URL's key", err)
	}
}
