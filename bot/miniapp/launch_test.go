package miniapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Published vectors: Telegram-Mini-Apps/init-data-golang (validate_test.go) and aiogram
// (tests/test_utils/test_web_app.py), signed in 2022, so they are checked with a clock set then.
const (
	tmaToken    = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
	tmaInitData = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
	aiogramData = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803"
	// Its user has a string id, spaces written as '+', and an emoji as JSON escapes.
	aiogramData2 = "auth_date=1650385342&user=%7B%22id%22%3A+%22123456789%22%2C+%22first_name%22%3A+%22PlaceholderFirstName%22%2C+%22last_name%22%3A+%22PlaceholderLastName+%5Cud83c%5Cuddfa%5Cud83c%5Cudde6%22%2C+%22username%22%3A+%22Latand%22%2C+%22language_code%22%3A+%22en%22%2C+%22is_premium%22%3A+%22true%22%2C+%22allows_write_to_pm%22%3A+%22true%22%7D&query_id=test&hash=b3c8b293f14ad0f7f0abcf769aea1209a72295d30a87eb0e74df855d32e53bfe"
)

func TestValidateTelegramPublishedVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, token string
		now               time.Time
		want              error
		user              int64
	}{
		{"init-data-golang", tmaInitData, tmaToken, time.Unix(1662771648+60, 0), nil, 279058397},
		{"init-data-golang, a day later", tmaInitData, tmaToken, time.Unix(1662771648+86400, 0), ErrLaunchExpired, 0},
		{"init-data-golang, tampered", strings.Replace(tmaInitData, "Vladislav", "Vladimir", 1), tmaToken, time.Unix(1662771648, 0), ErrLaunchSignature, 0},
		{"aiogram", aiogramData, "42:TEST", time.Unix(1650385342, 0), nil, 42},
		{"aiogram, string id and '+' spaces", aiogramData2, "42:TEST", time.Unix(1650385342, 0), nil, 123456789},
		{"aiogram, other token", aiogramData, "42:INVALID", time.Unix(1650385342, 0), ErrLaunchSignature, 0},
		{"aiogram, hash=test", "user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=test", "42:TEST", time.Unix(1650385342, 0), ErrLaunchMalformed, 0},
		{"aiogram, no hash", "user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test", "42:TEST", time.Unix(1650385342, 0), ErrLaunchMalformed, 0},
		{"aiogram, empty", "", "42:TEST", time.Unix(1650385342, 0), ErrLaunchMalformed, 0},
		{"aiogram, garbage", "test&foo=bar=baz", "42:TEST", time.Unix(1650385342, 0), ErrLaunchMalformed, 0},
		{"aiogram, non-ASCII hash", "user=%7B%22id%22%3A42%7D&query_id=test&hash=%C3%A9%C3%A9%C3%A9", "42:TEST", time.Unix(1650385342, 0), ErrLaunchMalformed, 0},
		{"semicolons", "here comes something wrong;", "42:TEST", time.Unix(1650385342, 0), ErrLaunchMalformed, 0},
	}
	for _, tt := range tests {
		l, err := ValidateTelegram(tt.data, tt.token, time.Hour, tt.now)
		if !errors.Is(err, tt.want) || l.UserID != tt.user {
			t.Errorf("%s: ValidateTelegram = %+v, %v; want user %d, %v", tt.name, l, err, tt.user, tt.want)
		}
	}
}

// signTelegram signs fields as Telegram does and returns the raw initData.
func signTelegram(token string, fields url.Values) string {
	var lines []string
	for k := range fields {
		lines = append(lines, k+"="+fields.Get(k))
	}
	slices.Sort(lines)
	secret := hmacSHA256([]byte("WebAppData"), []byte(token))
	fields.Set("hash", hex.EncodeToString(hmacSHA256(secret, []byte(strings.Join(lines, "\n")))))
	return fields.Encode()
}

func telegramFields(user string, at time.Time) url.Values {
	return url.Values{"user": {user}, "auth_date": {strconv.FormatInt(at.Unix(), 10)}, "query_id": {"AAE"}}
}

func TestValidateTelegramOwnVectors(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	const token = "7000000001:AAFakeTokenForTests"
	names := []string{`Анна+Мария`, `100% Ivan`, `Ёжик 🦔 %2B`, `a&b=c`, `"quoted"`}
	for _, name := range names {
		user := `{"id":77,"first_name":` + strconv.Quote(name) + `,"language_code":"en"}`
		l, err := ValidateTelegram(signTelegram(token, telegramFields(user, now.Add(-time.Minute))), token, time.Hour, now)
		if err != nil || l.UserID != 77 || l.FirstName != name || l.LangCode != "en" || l.Channel != "telegram" {
			t.Errorf("name %q: ValidateTelegram = %+v, %v", name, l, err)
		}
	}
	valid := signTelegram(token, telegramFields(`{"id":77,"first_name":"Ivan"}`, now.Add(-time.Minute)))
	swapped := strings.Replace(valid, "%3A77%2C", "%3A78%2C", 1)
	if swapped == valid {
		t.Fatal("the test failed to swap the user id")
	}
	tests := []struct {
		name, data, token string
		maxAge            time.Duration
		want              error
	}{
		{"valid", valid, token, time.Hour, nil},
		{"user id swapped after signing", swapped, token, time.Hour, ErrLaunchSignature},
		{"another bot's token", valid, "7000000002:AAOtherBot", time.Hour, ErrLaunchSignature},
		{"no token configured", valid, "", time.Hour, ErrLaunchSignature},
		{"older than MINIAPP_MAX_AGE", valid, token, 30 * time.Second, ErrLaunchExpired},
		{"signed in the future", signTelegram(token, telegramFields(`{"id":77}`, now.Add(time.Hour))), token, time.Hour, ErrLaunchExpired},
		{"no user", signTelegram(token, url.Values{"auth_date": {strconv.FormatInt(now.Unix(), 10)}}), token, time.Hour, ErrLaunchNoUser},
		{"no auth_date", signTelegram(token, url.Values{"user": {`{"id":77}`}}), token, time.Hour, ErrLaunchMalformed},
		{"repeated field", valid + "&user=%7B%22id%22%3A1%7D", token, time.Hour, ErrLaunchMalformed},
		{"garbage", "%zz", token, time.Hour, ErrLaunchMalformed},
	}
	for _, tt := range tests {
		if _, err := ValidateTelegram(tt.data, tt.token, tt.maxAge, now); !errors.Is(err, tt.want) {
			t.Errorf("%s: ValidateTelegram = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// signVK signs launch parameters as VK does and returns the query string.
func signVK(secret string, params url.Values) string {
	vk := url.Values{}
	for k, v := range params {
		if strings.HasPrefix(k, "vk_") {
			vk[k] = v
		}
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(vk.Encode()))
	params.Set("sign", base64.RawURLEncoding.EncodeToString(m.Sum(nil)))
	return params.Encode()
}

// VK's published example (VKCOM/vk-apps-launch-params) predates vk_ts: its signature must pass, and the
// launch is then refused only for the missing timestamp.
func TestValidateVKPublishedVector(t *testing.T) {
	t.Parallel()
	const query = "vk_user_id=494075&vk_app_id=6736218&vk_is_app_user=1&vk_are_notifications_enabled=1&vk_language=ru&vk_access_token_settings=&vk_platform=android&sign=htQFduJpLxz7ribXRZpDFUH-XEUhC9rBPTJkjUFEkRA"
	_, err := ValidateVK(query, "wvl68m4dR1UpLrVRli", time.Hour, time.Now())
	if !errors.Is(err, ErrLaunchMalformed) || !strings.Contains(err.Error(), "vk_ts") {
		t.Errorf("published vector: %v, want a good signature refused for its missing vk_ts", err)
	}
	_, err = ValidateVK(strings.Replace(query, "494075", "494076", 1), "wvl68m4dR1UpLrVRli", time.Hour, time.Now())
	if !errors.Is(err, ErrLaunchSignature) {
		t.Errorf("tampered published vector: %v, want ErrLaunchSignature", err)
	}
}

func TestValidateVK(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	const secret = "wvl68m4dR1UpLrVRli"
	params := func(user string, at time.Time) url.Values {
		return url.Values{"vk_user_id": {user}, "vk_app_id": {"6736218"}, "vk_language": {"ru"}, "vk_platform": {"mobile_android"},
			"vk_ts": {strconv.FormatInt(at.Unix(), 10)}, "vk_is_app_user": {"1"}, "utm_source": {"not signed"}}
	}
	valid := signVK(secret, params("494075", now.Add(-time.Minute)))
	l, err := ValidateVK("?"+valid, secret, time.Hour, now)
	if err != nil || l.UserID != 494075 || l.Channel != "vk" || l.LangCode != "ru" {
		t.Fatalf("ValidateVK = %+v, %v", l, err)
	}
	tests := []struct {
		name, query, secret string
		want                error
	}{
		{"user swapped after signing", strings.Replace(valid, "vk_user_id=494075", "vk_user_id=494076", 1), secret, ErrLaunchSignature},
		{"another app's secret", valid, "another-secret", ErrLaunchSignature},
		{"no secret configured", valid, "", ErrLaunchSignature},
		{"too old", signVK(secret, params("494075", now.Add(-2*time.Hour))), secret, ErrLaunchExpired},
		{"no sign", "vk_user_id=1&vk_ts=1", secret, ErrLaunchMalformed},
		{"no user", signVK(secret, url.Values{"vk_ts": {strconv.FormatInt(now.Unix(), 10)}}), secret, ErrLaunchNoUser},
		{"garbage", "%%%", secret, ErrLaunchMalformed},
	}
	for _, tt := range tests {
		if _, err := ValidateVK(tt.query, tt.secret, time.Hour, now); !errors.Is(err, tt.want) {
			t.Errorf("%s: ValidateVK = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Parameters outside vk_* are not signed: changing them changes nothing.
	if _, err := ValidateVK(strings.Replace(valid, "not+signed", "changed", 1), secret, time.Hour, now); err != nil {
		t.Errorf("unsigned parameter changed: %v", err)
	}
}
