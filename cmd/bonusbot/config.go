package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"bonusbot/ledger"
)

// Config is everything bonusbot reads from the environment. Load is the only code that reads env.
type Config struct {
	DatabaseURL string
	RedisURL    string
	RedisAddrs  []string // REDIS_ADDRS: seed nodes of a Redis Cluster; empty: REDIS_URL is one server
	HTTPAddr    string
	IngestToken string
	Location    *time.Location
	Expiry      ledger.ExpiryPolicy

	RequestTimeout    time.Duration // server-side deadline of an HTTP request that is not a batch
	IngestTimeout     time.Duration // the same for a batch (accruals, subscribers)
	IngestMaxInflight int           // batches applying at once; more get 503 and Retry-After
	ShutdownGrace     time.Duration // after SIGTERM, what is in hand (updates, requests, jobs) may take this long

	BotToken              string        // TELEGRAM_BOT_TOKEN; empty: no Telegram
	TelegramAPIURL        string        // the Bot API server
	BotMode               string        // polling, webhook or off
	WebhookURL            string        // BOT_MODE=webhook: the public https URL Telegram posts updates to
	WebhookSecret         string        // BOT_MODE=webhook: Telegram echoes it in every request
	WebhookAddr           string        // BOT_MODE=webhook: where to listen for them
	WebhookMaxConnections int           // BOT_MODE=webhook: updates Telegram may have in flight at once, over all replicas
	BotUserRate           int           // messages a user may send a minute
	BotGlobalRate         int           // messages the bot may send a second, over all replicas
	DialogTTL             time.Duration // a dialog left alone this long starts over
	SMSGatewayURL         string        // empty: codes go to the log (development)

	CodeSecret    string   // keys the one-time codes' HMAC; empty: random per process (development only)
	PhonePrefixes []string // one-time codes go only to numbers starting so
	SMSDevLog     bool     // SMS_DEV_LOG: texts, codes included, may go to the log while a real platform is on

	MiniAppURL    string        // the public https address of /app/; empty: the bot offers no Mini App button
	MiniAppMaxAge time.Duration // launch data older than this is refused
	MiniAppRate   int           // Mini App API requests a user may make a minute
	MiniAppDev    bool          // development: /app/?dev_user=+7… opens the page as that member
	VKAppSecret   string        // verifies VK Mini App launch parameters; empty: VK launches are refused

	Support SupportConfig // SUPPORT_*: the relay to human agents (config_support.go)
	Jobs    JobsConfig    // expiry warnings and order fulfilment (config_jobs.go)
}

// configDefaults documents each variable once; README's table mirrors it.
var configDefaults = map[string]string{
	"DATABASE_URL":  "postgres://root@127.0.0.1:5432/bonusbot?sslmode=disable",
	"REDIS_URL":     "redis://127.0.0.1:6379/0",
	"HTTP_ADDR":     ":8080",
	"TIMEZONE":      "Europe/Moscow",
	"POINTS_EXPIRY": "12m",

	"REQUEST_TIMEOUT":     "10s",
	"INGEST_TIMEOUT":      "60s",
	"INGEST_MAX_INFLIGHT": "10", // half the default pool of 20, so batches never starve the bot
	"SHUTDOWN_GRACE":      "20s",

	"TELEGRAM_API_URL":        "https://api.telegram.org",
	"BOT_MODE":                "polling",
	"WEBHOOK_ADDR":            ":8443",
	"WEBHOOK_MAX_CONNECTIONS": "40",
	"BOT_USER_RATE":           "20",
	"BOT_GLOBAL_RATE":         "30",
	"DIALOG_TTL":              "15m",

	"OTP_PHONE_PREFIXES": "+79",

	"MINIAPP_MAX_AGE": "1h",
	"MINIAPP_RATE":    "120",
}

// Load builds a Config from getenv; a wrong value is an error naming the variable.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string { return cmp.Or(getenv(name), configDefaults[name]) }
	c := Config{
		DatabaseURL: get("DATABASE_URL"),
		RedisURL:    get("REDIS_URL"),
		HTTPAddr:    get("HTTP_ADDR"),
		IngestToken: getenv("INGEST_TOKEN"),
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return Config{}, fmt.Errorf("config: DATABASE_URL: want postgres://user@host:port/db, got %q", redactURL(c.DatabaseURL))
	}
	if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return Config{}, fmt.Errorf("config: REDIS_URL: want redis://host:port/db, got %q", redactURL(c.RedisURL))
	}
	if err := c.loadRedisCluster(getenv("REDIS_ADDRS")); err != nil {
		return Config{}, err
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return Config{}, fmt.Errorf("config: HTTP_ADDR: %w", err)
	}
	loc, err := time.LoadLocation(get("TIMEZONE"))
	if err != nil {
		return Config{}, fmt.Errorf("config: TIMEZONE: %w", err)
	}
	c.Location = loc
	if c.Expiry, err = ledger.ParseExpiryPolicy(get("POINTS_EXPIRY")); err != nil {
		return Config{}, fmt.Errorf("config: POINTS_EXPIRY: %w", err)
	}
	if err := c.loadHTTP(get); err != nil {
		return Config{}, err
	}
	if err := c.loadBot(get); err != nil {
		return Config{}, err
	}
	if err := c.loadMiniApp(get); err != nil {
		return Config{}, err
	}
	if err := c.loadCodes(get); err != nil {
		return Config{}, err
	}
	if c.Support, err = loadSupport(getenv); err != nil {
		return Config{}, err
	}
	if c.Jobs, err = loadJobs(getenv); err != nil {
		return Config{}, err
	}
	return c, nil
}

// loadRedisCluster reads REDIS_ADDRS, the seed nodes of a Redis Cluster (one is enough: the client
// learns the others from it). A cluster has only database 0, so REDIS_URL, which then gives the
// credentials, TLS and timeouts, must not name another.
func (c *Config) loadRedisCluster(addrs string) error {
	if addrs == "" {
		return nil
	}
	for _, a := range strings.Split(addrs, ",") {
		a = strings.TrimSpace(a)
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			return fmt.Errorf("config: REDIS_ADDRS: want host:port,host:port…, got %q", a)
		}
		c.RedisAddrs = append(c.RedisAddrs, a)
	}
	if u, _ := url.Parse(c.RedisURL); strings.Trim(u.Path, "/") != "" && strings.Trim(u.Path, "/") != "0" {
		return fmt.Errorf("config: REDIS_URL: a Redis Cluster (REDIS_ADDRS) has only database 0, got %q", redactURL(c.RedisURL))
	}
	return nil
}

// loadMiniApp reads the Mini App settings. MINIAPP_DEV opens accounts without any signature, so it is
// refused wherever a real platform could reach the page.
func (c *Config) loadMiniApp(get func(string) string) error {
	c.MiniAppURL, c.VKAppSecret = get("MINIAPP_URL"), get("VK_APP_SECRET")
	if u, err := url.Parse(c.MiniAppURL); c.MiniAppURL != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
		return fmt.Errorf("config: MINIAPP_URL: Telegram opens only https pages, got %q", redactURL(c.MiniAppURL))
	}
	var err error
	if c.MiniAppMaxAge, err = time.ParseDuration(get("MINIAPP_MAX_AGE")); err != nil || c.MiniAppMaxAge < time.Minute {
		return fmt.Errorf("config: MINIAPP_MAX_AGE: want a duration of at least 1m, got %q", get("MINIAPP_MAX_AGE"))
	}
	if c.MiniAppRate, err = strconv.Atoi(get("MINIAPP_RATE")); err != nil || c.MiniAppRate < 1 {
		return fmt.Errorf("config: MINIAPP_RATE: want requests a minute (≥ 1), got %q", get("MINIAPP_RATE"))
	}
	switch dev := get("MINIAPP_DEV"); dev {
	case "", "0", "false":
	case "1", "true":
		if c.BotToken != "" || c.VKAppSecret != "" {
			return fmt.Errorf("config: MINIAPP_DEV: development only; refused while TELEGRAM_BOT_TOKEN or VK_APP_SECRET is set")
		}
		c.MiniAppDev = true
	default:
		return fmt.Errorf("config: MINIAPP_DEV: want 1 or 0, got %q", dev)
	}
	return nil
}

// phonePrefix is an international prefix of phone numbers: "+79", "+7".
var phonePrefix = regexp.MustCompile(`^\+[0-9]{1,6}$`)

// loadCodes reads how one-time codes are kept and sent. Wherever real users can ask for codes (a bot
// token, a VK app, a real SMS gateway) the codes' secret must be set, and codes may reach the log only
// when SMS_DEV_LOG says so on purpose.
func (c *Config) loadCodes(get func(string) string) error {
	realUsers := c.BotToken != "" || c.VKAppSecret != "" || c.SMSGatewayURL != ""
	c.CodeSecret = get("CODE_SECRET")
	switch {
	case c.CodeSecret == "" && realUsers:
		return fmt.Errorf("config: CODE_SECRET: required with TELEGRAM_BOT_TOKEN, VK_APP_SECRET or SMS_GATEWAY_URL (e.g. openssl rand -hex 32)")
	case c.CodeSecret != "" && len(c.CodeSecret) < 32:
		return fmt.Errorf("config: CODE_SECRET: want at least 32 characters, got %d", len(c.CodeSecret))
	}
	c.PhonePrefixes = nil
	for _, p := range strings.Split(get("OTP_PHONE_PREFIXES"), ",") {
		if p = strings.TrimSpace(p); !phonePrefix.MatchString(p) {
			return fmt.Errorf("config: OTP_PHONE_PREFIXES: want prefixes such as +79,+7495, got %q", p)
		}
		c.PhonePrefixes = append(c.PhonePrefixes, p)
	}
	switch v := get("SMS_DEV_LOG"); v {
	case "", "false", "0":
	case "true", "1":
		c.SMSDevLog = true
	default:
		return fmt.Errorf("config: SMS_DEV_LOG: want true or false, got %q", v)
	}
	if c.SMSGatewayURL == "" && (c.BotToken != "" || c.VKAppSecret != "") && !c.SMSDevLog {
		return fmt.Errorf("config: SMS_GATEWAY_URL: required with TELEGRAM_BOT_TOKEN or VK_APP_SECRET, or one-time codes would go to the log; set SMS_DEV_LOG=true to do that on purpose")
	}
	return nil
}

// loadHTTP reads the deadlines and the cap on concurrent batches of the HTTP server.
func (c *Config) loadHTTP(get func(string) string) error {
	for name, d := range map[string]*time.Duration{"REQUEST_TIMEOUT": &c.RequestTimeout, "INGEST_TIMEOUT": &c.IngestTimeout,
		"SHUTDOWN_GRACE": &c.ShutdownGrace} {
		v, err := time.ParseDuration(get(name))
		if err != nil || v < time.Second || v > 10*time.Minute {
			return fmt.Errorf("config: %s: want a duration from 1s to 10m, got %q", name, get(name))
		}
		*d = v
	}
	n, err := strconv.Atoi(get("INGEST_MAX_INFLIGHT"))
	if err != nil || n < 1 {
		return fmt.Errorf("config: INGEST_MAX_INFLIGHT: want a number of batches (≥ 1), got %q", get("INGEST_MAX_INFLIGHT"))
	}
	c.IngestMaxInflight = n
	return nil
}

// loadBot reads the Telegram, dialog and SMS settings.
func (c *Config) loadBot(get func(string) string) error {
	c.BotToken, c.TelegramAPIURL, c.SMSGatewayURL = get("TELEGRAM_BOT_TOKEN"), get("TELEGRAM_API_URL"), get("SMS_GATEWAY_URL")
	for name, v := range map[string]string{"TELEGRAM_API_URL": c.TelegramAPIURL, "SMS_GATEWAY_URL": c.SMSGatewayURL} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			return fmt.Errorf("config: %s: want an http(s) URL, got %q", name, redactURL(v))
		}
	}
	switch c.BotMode = get("BOT_MODE"); c.BotMode {
	case "polling", "off":
	case "webhook":
		if err := c.loadWebhook(get); err != nil {
			return err
		}
	default:
		return fmt.Errorf("config: BOT_MODE: want polling, webhook or off, got %q", c.BotMode)
	}
	n, err := strconv.Atoi(get("BOT_USER_RATE"))
	if err != nil || n < 1 {
		return fmt.Errorf("config: BOT_USER_RATE: want messages a minute (≥ 1), got %q", get("BOT_USER_RATE"))
	}
	c.BotUserRate = n
	if n, err = strconv.Atoi(get("BOT_GLOBAL_RATE")); err != nil || n < 1 || n > 1000 {
		return fmt.Errorf("config: BOT_GLOBAL_RATE: want messages a second from 1 to 1000, got %q", get("BOT_GLOBAL_RATE"))
	}
	c.BotGlobalRate = n
	if c.DialogTTL, err = time.ParseDuration(get("DIALOG_TTL")); err != nil || c.DialogTTL < time.Minute {
		return fmt.Errorf("config: DIALOG_TTL: want a duration of at least 1m, got %q", get("DIALOG_TTL"))
	}
	return nil
}

// webhookSecret is what Telegram accepts as secret_token.
var webhookSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{16,256}$`)

// loadWebhook reads what BOT_MODE=webhook needs.
func (c *Config) loadWebhook(get func(string) string) error {
	c.WebhookURL, c.WebhookSecret, c.WebhookAddr = get("WEBHOOK_URL"), get("WEBHOOK_SECRET"), get("WEBHOOK_ADDR")
	if u, err := url.Parse(c.WebhookURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("config: WEBHOOK_URL: BOT_MODE=webhook needs the public https URL, got %q", redactURL(c.WebhookURL))
	}
	if !webhookSecret.MatchString(c.WebhookSecret) {
		return fmt.Errorf("config: WEBHOOK_SECRET: BOT_MODE=webhook needs 16 to 256 of A-Z, a-z, 0-9, _ and -")
	}
	if _, _, err := net.SplitHostPort(c.WebhookAddr); err != nil {
		return fmt.Errorf("config: WEBHOOK_ADDR: %w", err)
	}
	n, err := strconv.Atoi(get("WEBHOOK_MAX_CONNECTIONS"))
	if err != nil || n < 1 || n > 100 {
		return fmt.Errorf("config: WEBHOOK_MAX_CONNECTIONS: want 1 to 100 (Telegram's range), got %q", get("WEBHOOK_MAX_CONNECTIONS"))
	}
	c.WebhookMaxConnections = n
	return nil
}

// LogValue keeps secrets out of logs.
func (c Config) LogValue() slog.Value {
	token, botToken, hookSecret := "", "", ""
	if c.IngestToken != "" {
		token = "<redacted>"
	}
	if c.BotToken != "" {
		botToken = "<redacted>"
	}
	if c.WebhookSecret != "" {
		hookSecret = "<redacted>"
	}
	redact := func(s string) string {
		if s == "" {
			return ""
		}
		return "<redacted>"
	}
	vkSecret, codeSecret := redact(c.VKAppSecret), redact(c.CodeSecret)
	return slog.GroupValue(
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.String("redis_addrs", strings.Join(c.RedisAddrs, ",")),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("ingest_token", token),
		slog.String("timezone", c.Location.String()),
		slog.String("points_expiry", string(c.Expiry)),
		slog.String("request_timeout", c.RequestTimeout.String()),
		slog.String("ingest_timeout", c.IngestTimeout.String()),
		slog.Int("ingest_max_inflight", c.IngestMaxInflight),
		slog.String("shutdown_grace", c.ShutdownGrace.String()),
		slog.String("telegram_bot_token", botToken),
		slog.String("telegram_api_url", redactURL(c.TelegramAPIURL)),
		slog.String("bot_mode", c.BotMode),
		slog.String("webhook_url", redactURL(c.WebhookURL)),
		slog.String("webhook_secret", hookSecret),
		slog.String("webhook_addr", c.WebhookAddr),
		slog.Int("webhook_max_connections", c.WebhookMaxConnections),
		slog.Int("bot_user_rate", c.BotUserRate),
		slog.Int("bot_global_rate", c.BotGlobalRate),
		slog.String("dialog_ttl", c.DialogTTL.String()),
		slog.String("sms_gateway_url", redactURL(c.SMSGatewayURL)),
		slog.String("miniapp_url", c.MiniAppURL),
		slog.String("miniapp_max_age", c.MiniAppMaxAge.String()),
		slog.Int("miniapp_rate", c.MiniAppRate),
		slog.Bool("miniapp_dev", c.MiniAppDev),
		slog.String("vk_app_secret", vkSecret),
		slog.String("code_secret", codeSecret),
		slog.String("otp_phone_prefixes", strings.Join(c.PhonePrefixes, ",")),
		slog.Bool("sms_dev_log", c.SMSDevLog),
		slog.Any("support", c.Support),
		slog.Any("jobs", c.Jobs),
	)
}

// redactURL is raw without its secrets: the user info's password, and the value of every query
// parameter whose name says it is one (pgx takes ?password=, gateways often want ?api_key=).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable>"
	}
	if u.RawQuery != "" {
		q := u.Query()
		for name := range q {
			if secretParam.MatchString(name) {
				q[name] = []string{"redacted"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// secretParam matches the names of query parameters that carry secrets.
var secretParam = regexp.MustCompile(`(?i)pass|secret|token|key|sig|auth|credential`)
