package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"bonusbot/ledger"
)

// Config is everything bonusbot reads from the environment. Load is the only code that reads env.
type Config struct {
	DatabaseURL string
	RedisURL    string
	HTTPAddr    string
	IngestToken string
	Location    *time.Location
	Expiry      ledger.ExpiryPolicy
}

// configDefaults documents each variable once; README's table mirrors it.
var configDefaults = map[string]string{
	"DATABASE_URL":  "postgres://root@127.0.0.1:5432/bonusbot?sslmode=disable",
	"REDIS_URL":     "redis://127.0.0.1:6379/0",
	"HTTP_ADDR":     ":8080",
	"TIMEZONE":      "Europe/Moscow",
	"POINTS_EXPIRY": "12m",
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
	return c, nil
}

// LogValue keeps secrets out of logs.
func (c Config) LogValue() slog.Value {
	token := ""
	if c.IngestToken != "" {
		token = "<redacted>"
	}
	return slog.GroupValue(
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("ingest_token", token),
		slog.String("timezone", c.Location.String()),
		slog.String("points_expiry", string(c.Expiry)),
	)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable>"
	}
	return u.Redacted()
}
