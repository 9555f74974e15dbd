package main

import (
	"bonusbot/bot/expiry"
	"bonusbot/bot/fulfil"
	"bonusbot/bot/notify"
	"bonusbot/ledger"
)

// backgroundJobs are the River jobs beside gift notices, worked by the process's one River client:
// the daily expiry sweep and expiry warnings (bot/expiry) and order fulfilment (bot/fulfil). They
// reach subscribers through the same chats and SMS gateway as gift notices.
func (c *channels) backgroundJobs(reader *ledger.Store) []notify.Jobs {
	j := c.cfg.Jobs
	x := expiry.New(reader, c.chats, c.sms, c.texts, c.log, expiry.Options{Warnings: j.Warnings, SMS: j.SMSWarnings, Hours: j.WarnHours})
	f := fulfil.New(reader, c.chats, c.sms, c.texts, c.log, fulfil.Options{URL: j.FulfilmentURL, Token: j.FulfilmentToken, Timeout: j.FulfilmentTimeout})
	if j.FulfilmentURL == "" {
		c.log.Info("FULFILMENT_URL is empty: orders are fulfilled at once (demo)")
	}
	return []notify.Jobs{x.Jobs(), f.Jobs()}
}
