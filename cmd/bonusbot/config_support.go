package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"bonusbot/dialogs"
)

// SupportConfig is the support relay's part of Config: subscribers write to human agents in a
// Telegram forum supergroup.
type SupportConfig struct {
	ChatID        int64         // SUPPORT_CHAT_ID: the forum supergroup; 0: no relay, /support gives the hotline
	ShowAgentName bool          // SUPPORT_SHOW_AGENT_NAME: answers start with the agent's first name
	Hours         dialogs.Hours // SUPPORT_HOURS: agents' working hours in TIMEZONE; zero: always open
	MaxAdjust     int64         // SUPPORT_MAX_ADJUST: the most one /adjust moves either way
	Idle          time.Duration // SUPPORT_IDLE: a conversation without messages this long closes itself
}

// supportDefaults document the support variables' defaults; README's table mirrors them.
var supportDefaults = map[string]string{
	"SUPPORT_SHOW_AGENT_NAME": "false",
	"SUPPORT_MAX_ADJUST":      "1000",
	"SUPPORT_IDLE":            "24h",
}

// loadSupport reads the SUPPORT_* variables; a wrong value is an error naming the variable.
func loadSupport(getenv func(string) string) (SupportConfig, error) {
	get := func(name string) string { return cmp.Or(getenv(name), supportDefaults[name]) }
	var c SupportConfig
	if v := get("SUPPORT_CHAT_ID"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id >= 0 {
			return c, fmt.Errorf("config: SUPPORT_CHAT_ID: want the supergroup's id, a negative number such as -1001234567890, got %q", v)
		}
		c.ChatID = id
	}
	var err error
	if c.ShowAgentName, err = strconv.ParseBool(get("SUPPORT_SHOW_AGENT_NAME")); err != nil {
		return c, fmt.Errorf("config: SUPPORT_SHOW_AGENT_NAME: want true or false, got %q", get("SUPPORT_SHOW_AGENT_NAME"))
	}
	if c.Hours, err = dialogs.ParseHours(get("SUPPORT_HOURS")); err != nil {
		return c, fmt.Errorf("config: SUPPORT_HOURS: %w", err)
	}
	if c.MaxAdjust, err = strconv.ParseInt(get("SUPPORT_MAX_ADJUST"), 10, 64); err != nil || c.MaxAdjust < 1 {
		return c, fmt.Errorf("config: SUPPORT_MAX_ADJUST: want points (≥ 1), got %q", get("SUPPORT_MAX_ADJUST"))
	}
	if c.Idle, err = time.ParseDuration(get("SUPPORT_IDLE")); err != nil || c.Idle < time.Minute {
		return c, fmt.Errorf("config: SUPPORT_IDLE: want a duration of at least 1m, got %q", get("SUPPORT_IDLE"))
	}
	return c, nil
}

// LogValue shows the support settings in the start-up line.
func (c SupportConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("chat_id", c.ChatID),
		slog.Bool("show_agent_name", c.ShowAgentName),
		slog.String("hours", c.Hours.String()),
		slog.Int64("max_adjust", c.MaxAdjust),
		slog.String("idle", c.Idle.String()),
	)
}
