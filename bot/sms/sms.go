// Package sms sends text messages through the operator's SMS gateway.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"bonusbot/dialogs/metrics"
	"bonusbot/ledger"
)

// counted records a gateway send's outcome in bonusbot_sms_sends_total and passes err on.
func counted(err error) error {
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	metrics.SMS.WithLabelValues(outcome).Inc()
	return err
}

// Gateway posts {"to": "+7…", "text": "…"} as JSON to URL; any 2xx means sent.
type Gateway struct {
	url    string
	client *http.Client
}

// NewGateway returns a Gateway; client nil means a client with a 10 s timeout.
func NewGateway(url string, client *http.Client) *Gateway {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Gateway{url: url, client: client}
}

// Send sends text to phone (E.164). The error never contains the text (it may hold a one-time code).
func (g *Gateway) Send(ctx context.Context, to, text string) error {
	return counted(g.send(ctx, to, text))
}

func (g *Gateway) send(ctx context.Context, to, text string) error {
	body, err := json.Marshal(struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}{to, text})
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("sms: gateway: %w", hideURL(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // drain, so the connection is reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms: gateway answered %s", resp.Status)
	}
	return nil
}

// DevLog "sends" by writing the message to the log: for development without a gateway only, since
// it logs one-time codes.
type DevLog struct {
	Log *slog.Logger
}

// Send logs the message.
func (d DevLog) Send(ctx context.Context, to, text string) error {
	d.Log.WarnContext(ctx, "dev sms (SMS_GATEWAY_URL is empty)", "to", ledger.MaskPhone(to), "text", text)
	metrics.SMS.WithLabelValues("dev_log").Inc()
	return nil
}

// hideURL drops the request URL from a transport error: a gateway's key may ride in its query, and
// the error is logged.
func hideURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
