package main

import (
	"crypto/sha256"
	"io"
	"log/slog"

	"bonusbot/bot/logs"
)

// newLogger is the JSON log of every subcommand but chat: each line carries the update or job it is
// about, chat and user ids hashed, and — outside development — no phone numbers or one-time codes
// (logs.Handler). The ids' hash is keyed from CODE_SECRET, so every replica hashes a chat alike.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var key []byte
	if cfg.CodeSecret != "" {
		sum := sha256.Sum256([]byte("bonusbot log ids\x00" + cfg.CodeSecret))
		key = sum[:]
	}
	return slog.New(logs.NewHandler(slog.NewJSONHandler(w, nil), logs.Options{Dev: cfg.development(), HashKey: key}))
}

// development says no real platform or gateway is configured: no Telegram token, no VK app, no SMS
// gateway. Only then may logs show phone numbers and codes.
func (c Config) development() bool {
	return c.BotToken == "" && c.VKAppSecret == "" && c.SMSGatewayURL == ""
}
