package fulfil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"bonusbot/ledger"
)

// Request is what the partner receives: POST FULFILMENT_URL with this JSON and the header
// Idempotency-Key: order-<order_id>, the same on every retry of the order.
type Request struct {
	OrderID   int64     `json:"order_id"`
	AccountID int64     `json:"account_id"`
	Phone     string    `json:"phone"` // E.164: where the reward goes
	ItemCode  string    `json:"item_code"`
	ItemTitle string    `json:"item_title"` // Russian
	Category  string    `json:"category"`
	Cost      int64     `json:"cost"` // points
	PlacedAt  time.Time `json:"placed_at"`
}

// errPartner is an answer worth retrying: the partner is down, overloaded or slow.
var errPartner = errors.New("fulfil: partner unavailable")

// ask asks the partner to deliver d: ok true when it did, false when it refused; an error when it
// could not answer (retry). Without a URL every order is delivered at once.
func (f *Fulfil) ask(ctx context.Context, d ledger.OrderDetails) (bool, error) {
	if f.opts.URL == "" {
		return true, nil
	}
	body, err := json.Marshal(Request{OrderID: d.ID, AccountID: d.AccountID, Phone: d.Phone, ItemCode: d.Code,
		ItemTitle: d.Item.TitleRU, Category: d.Item.Category, Cost: d.Cost, PlacedAt: d.CreatedAt.UTC()})
	if err != nil {
		return false, fmt.Errorf("fulfil: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.opts.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("fulfil: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "order-"+strconv.FormatInt(d.ID, 10))
	if f.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+f.opts.Token)
	}
	resp, err := f.opts.Client.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) { // the URL, which may carry the partner's key, stays out of logs and job rows
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	if err != nil {
		return false, fmt.Errorf("%w: %w", errPartner, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // drain, so the connection is reused
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return true, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooEarly || c == http.StatusTooManyRequests || c >= 500:
		return false, fmt.Errorf("%w: %s", errPartner, resp.Status)
	case c >= 400:
		f.log.WarnContext(ctx, "fulfilment refused by the partner", "order_id", d.ID, "status", c)
		return false, nil
	}
	return false, fmt.Errorf("%w: unexpected %s", errPartner, resp.Status)
}
