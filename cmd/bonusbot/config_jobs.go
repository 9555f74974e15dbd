package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"bonusbot/dialogs"
)

// JobsConfig is the background jobs' part of Config: expiry warnings and order fulfilment. (The daily
// expiry sweep needs no settings: it runs at 00:05 in TIMEZONE.)
type JobsConfig struct {
	Warnings          bool          // EXPIRY_WARNINGS: plan and send expiry warnings
	SMSWarnings       bool          // SMS_WARNINGS: members without a chat get them by SMS
	WarnHours         dialogs.Hours // WARN_HOURS: when warnings may go out, in TIMEZONE
	FulfilmentURL     string        // FULFILMENT_URL: the partner's endpoint; empty: orders fulfil at once
	FulfilmentToken   string        // FULFILMENT_TOKEN: "Authorization: Bearer …" to the partner
	FulfilmentTimeout time.Duration // FULFILMENT_TIMEOUT: one request's deadline
}

// jobsDefaults document the jobs' defaults; README's table mirrors them.
var jobsDefaults = map[string]string{
	"EXPIRY_WARNINGS":    "true",
	"SMS_WARNINGS":       "false",
	"WARN_HOURS":         "10:00-20:00",
	"FULFILMENT_TIMEOUT": "10s",
}

// loadJobs reads the jobs' variables; a wrong value is an error naming the variable.
func loadJobs(getenv func(string) string) (JobsConfig, error) {
	get := func(name string) string { return cmp.Or(getenv(name), jobsDefaults[name]) }
	var c JobsConfig
	var err error
	for name, v := range map[string]*bool{"EXPIRY_WARNINGS": &c.Warnings, "SMS_WARNINGS": &c.SMSWarnings} {
		if *v, err = strconv.ParseBool(get(name)); err != nil {
			return c, fmt.Errorf("config: %s: want true or false, got %q", name, get(name))
		}
	}
	if c.WarnHours, err = dialogs.ParseHours(get("WARN_HOURS")); err != nil {
		return c, fmt.Errorf("config: WARN_HOURS: %w (00:00-24:00 for any hour)", err)
	}
	c.FulfilmentURL, c.FulfilmentToken = get("FULFILMENT_URL"), get("FULFILMENT_TOKEN")
	if u, err := url.Parse(c.FulfilmentURL); c.FulfilmentURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return c, fmt.Errorf("config: FULFILMENT_URL: want an http(s) URL, got %q", redactURL(c.FulfilmentURL))
	}
	if c.FulfilmentTimeout, err = time.ParseDuration(get("FULFILMENT_TIMEOUT")); err != nil || c.FulfilmentTimeout < time.Second || c.FulfilmentTimeout > 2*time.Minute {
		return c, fmt.Errorf("config: FULFILMENT_TIMEOUT: want a duration from 1s to 2m, got %q", get("FULFILMENT_TIMEOUT"))
	}
	return c, nil
}

// LogValue shows the jobs' settings in the start-up line, the partner's token redacted.
func (c JobsConfig) LogValue() slog.Value {
	token := ""
	if c.FulfilmentToken != "" {
		token = "<redacted>"
	}
	return slog.GroupValue(
		slog.Bool("expiry_warnings", c.Warnings),
		slog.Bool("sms_warnings", c.SMSWarnings),
		slog.String("warn_hours", c.WarnHours.String()),
		slog.String("fulfilment_url", redactURL(c.FulfilmentURL)),
		slog.String("fulfilment_token", token),
		slog.String("fulfilment_timeout", c.FulfilmentTimeout.String()),
	)
}
