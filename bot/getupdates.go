package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// go-telegram/bot has no exported getUpdates: its poller confirms a batch on the next call, before
// the batch is handled. So the poller calls the method itself, on the same HTTP client, in the form
// the library uses for every method (multipart).

// apiError is a Bot API refusal.
type apiError struct {
	Method      string
	Code        int
	Description string
	RetryAfter  int // seconds, with a 429
}

func (e *apiError) Error() string {
	return fmt.Sprintf("bot: %s: %d %s", e.Method, e.Code, e.Description)
}

// webhookActive says getUpdates was refused because a webhook is set.
func (e *apiError) webhookActive() bool {
	return strings.Contains(strings.ToLower(e.Description), "webhook")
}

// getUpdates asks for at most limit updates from offset, waiting up to timeout for one (0: answer at
// once); the call itself confirms every update below offset.
func (b *Bot) getUpdates(ctx context.Context, offset int64, limit int, timeout time.Duration) ([]*models.Update, error) {
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	allowed, _ := json.Marshal(allowedUpdates) // a []string always marshals
	for _, f := range [][2]string{{"offset", strconv.FormatInt(offset, 10)}, {"limit", strconv.Itoa(limit)},
		{"timeout", strconv.Itoa(int(timeout.Seconds()))}, {"allowed_updates", string(allowed)}} {
		if err := form.WriteField(f[0], f[1]); err != nil {
			return nil, fmt.Errorf("bot: getUpdates: %w", err)
		}
	}
	if err := form.Close(); err != nil {
		return nil, fmt.Errorf("bot: getUpdates: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.opts.ServerURL+"/bot"+b.opts.Token+"/getUpdates", &body)
	if err != nil {
		return nil, fmt.Errorf("bot: getUpdates: %w", hideURL(err))
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	resp, err := b.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bot: getUpdates: %w", hideURL(err))
	}
	defer resp.Body.Close()
	var r struct {
		OK          bool             `json:"ok"`
		Result      []*models.Update `json:"result"`
		ErrorCode   int              `json:"error_code"`
		Description string           `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("bot: getUpdates: HTTP %d: %w", resp.StatusCode, err)
	}
	if !r.OK {
		return nil, &apiError{Method: "getUpdates", Code: cmpOr(r.ErrorCode, resp.StatusCode), Description: r.Description,
			RetryAfter: r.Parameters.RetryAfter}
	}
	return r.Result, nil
}

// hideURL drops the request URL, which holds the token, from a transport error.
func hideURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
