package miniapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Launch is who opened the page, as a verified launch signature says.
type Launch struct {
	Channel   string // "telegram" or "vk"
	UserID    int64
	FirstName string
	LangCode  string
	SignedAt  time.Time
}

// Why a launch is refused; every one of them is a 401.
var (
	ErrLaunchMalformed = errors.New("miniapp: launch data malformed")
	ErrLaunchSignature = errors.New("miniapp: launch data signature invalid")
	ErrLaunchExpired   = errors.New("miniapp: launch data too old")
	ErrLaunchNoUser    = errors.New("miniapp: launch data names no user")
)

// ValidateTelegram checks a Mini App's raw initData as Telegram documents it: the secret key is
// HMAC-SHA256 keyed with "WebAppData" over the bot token; the hash is the hex HMAC-SHA256, keyed with
// that secret, of every field but hash as sorted "key=value" lines, values decoded exactly once. The
// data must be signed no more than maxAge before now.
func ValidateTelegram(initData, botToken string, maxAge time.Duration, now time.Time) (Launch, error) {
	if botToken == "" {
		return Launch{}, ErrLaunchSignature
	}
	fields, err := url.ParseQuery(initData)
	if err != nil {
		return Launch{}, fmt.Errorf("%w: %v", ErrLaunchMalformed, err)
	}
	hash := fields.Get("hash")
	want, err := hex.DecodeString(hash)
	if err != nil || len(want) != sha256.Size {
		return Launch{}, fmt.Errorf("%w: hash is not 64 hex digits", ErrLaunchMalformed)
	}
	lines := make([]string, 0, len(fields))
	for k, vs := range fields {
		if len(vs) != 1 {
			return Launch{}, fmt.Errorf("%w: field %q repeated", ErrLaunchMalformed, k)
		}
		if k != "hash" {
			lines = append(lines, k+"="+vs[0])
		}
	}
	slices.Sort(lines)
	secret := hmacSHA256([]byte("WebAppData"), []byte(botToken))
	if !hmac.Equal(hmacSHA256(secret, []byte(strings.Join(lines, "\n"))), want) {
		return Launch{}, ErrLaunchSignature
	}
	signedAt, err := unixField(fields.Get("auth_date"), "auth_date")
	if err != nil {
		return Launch{}, err
	}
	if err := fresh(signedAt, maxAge, now); err != nil {
		return Launch{}, err
	}
	var user struct {
		ID           json.Number `json:"id"` // a number; some clients have sent it as a string
		FirstName    string      `json:"first_name"`
		LanguageCode string      `json:"language_code"`
	}
	if err := json.Unmarshal([]byte(fields.Get("user")), &user); err != nil {
		return Launch{}, fmt.Errorf("%w: %v", ErrLaunchNoUser, err)
	}
	id, err := user.ID.Int64()
	if err != nil || id <= 0 {
		return Launch{}, fmt.Errorf("%w: user id %q", ErrLaunchNoUser, user.ID)
	}
	return Launch{Channel: "telegram", UserID: id, FirstName: user.FirstName, LangCode: user.LanguageCode, SignedAt: signedAt}, nil
}

// ValidateVK checks VK Mini App launch parameters (the page's query string) as VK documents them: sign
// is the unpadded base64url HMAC-SHA256, keyed with the app's secret, of the vk_* parameters sorted by
// key and joined as a query string. vk_ts must be no more than maxAge before now.
func ValidateVK(query, appSecret string, maxAge time.Duration, now time.Time) (Launch, error) {
	if appSecret == "" {
		return Launch{}, ErrLaunchSignature
	}
	params, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err != nil {
		return Launch{}, fmt.Errorf("%w: %v", ErrLaunchMalformed, err)
	}
	want, err := base64.RawURLEncoding.DecodeString(params.Get("sign"))
	if err != nil || len(want) != sha256.Size {
		return Launch{}, fmt.Errorf("%w: sign is not base64url of 32 bytes", ErrLaunchMalformed)
	}
	signed := url.Values{}
	for k, vs := range params {
		if strings.HasPrefix(k, "vk_") {
			if len(vs) != 1 {
				return Launch{}, fmt.Errorf("%w: field %q repeated", ErrLaunchMalformed, k)
			}
			signed[k] = vs
		}
	}
	if !hmac.Equal(hmacSHA256([]byte(appSecret), []byte(signed.Encode())), want) { // Encode sorts by key
		return Launch{}, ErrLaunchSignature
	}
	signedAt, err := unixField(params.Get("vk_ts"), "vk_ts")
	if err != nil {
		return Launch{}, err
	}
	if err := fresh(signedAt, maxAge, now); err != nil {
		return Launch{}, err
	}
	id, err := strconv.ParseInt(params.Get("vk_user_id"), 10, 64)
	if err != nil || id <= 0 {
		return Launch{}, fmt.Errorf("%w: vk_user_id %q", ErrLaunchNoUser, params.Get("vk_user_id"))
	}
	return Launch{Channel: "vk", UserID: id, LangCode: params.Get("vk_language"), SignedAt: signedAt}, nil
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func unixField(v, name string) (time.Time, error) {
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, fmt.Errorf("%w: %s %q", ErrLaunchMalformed, name, v)
	}
	return time.Unix(sec, 0), nil
}

// fresh refuses data signed more than maxAge ago, or more than a minute ahead of our clock.
func fresh(signedAt time.Time, maxAge time.Duration, now time.Time) error {
	if now.Sub(signedAt) > maxAge || signedAt.Sub(now) > time.Minute {
		return ErrLaunchExpired
	}
	return nil
}
