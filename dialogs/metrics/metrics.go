// Package metrics holds bonusbot's Prometheus metrics: the collectors every part counts into and
// the /metrics handler. It imports nothing of bonusbot and sits under dialogs, the innermost layer
// that counts (the ledger is counted from outside), so dialogs, bot and cmd may each count with one
// line at its call site, and outcomes are plain strings the caller chooses from a small fixed set (labels must
// never carry ids, phones or free text: each label value is a time series).
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds the process-wide metrics below, the Go runtime's and the process's. Parts that
// exist once per server (a Postgres pool, River's queue) register per Handler instead, so tests can
// run several servers in one process.
var Registry = prometheus.NewRegistry()

// Buckets of the latency histograms, in seconds: from a Redis read to a slow Bot API call.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

var (
	// Updates counts Telegram updates by type (message, callback_query, edited_message, other) and
	// outcome (ok, failed, panic).
	Updates = counters("bonusbot_updates_total", "Telegram updates handled, by type and outcome.", "type", "outcome")
	// UpdateSeconds is how long an update took from dispatch to the last Bot API call of its answer.
	UpdateSeconds = histograms("bonusbot_update_duration_seconds", "Time to handle one Telegram update, by type.", "type")
	// DialogSeconds is the latency of one dialog step with its effects (dialogs.Engine.Handle), by
	// the kind of input: a command name, a button kind, text or contact.
	DialogSeconds = histograms("bonusbot_dialog_step_duration_seconds", "Latency of one dialog step with its effects, by input.", "input")
	// LedgerOps counts ledger operations by op (balance, gift, redeem…) and outcome (ok, refused, error).
	LedgerOps = counters("bonusbot_ledger_operations_total", "Ledger operations, by operation and outcome.", "op", "outcome")
	// LedgerSeconds is the latency of ledger operations, by op.
	LedgerSeconds = histograms("bonusbot_ledger_operation_duration_seconds", "Latency of ledger operations, by operation.", "op")
	// OTP counts one-time code events: sent, send_failed, wrong, locked, verified.
	OTP = counters("bonusbot_otp_events_total", "One-time code events: sent, send_failed, wrong, locked, verified.", "event")
	// Jobs counts River jobs worked, by kind and outcome (completed, retry, discarded, snoozed, cancelled).
	Jobs = counters("bonusbot_river_jobs_total", "River jobs worked, by kind and outcome.", "kind", "outcome")
	// JobSeconds is how long River jobs ran, by kind.
	JobSeconds = histograms("bonusbot_river_job_duration_seconds", "Time River jobs ran, by kind.", "kind")
	// TelegramCalls counts Bot API calls by method and HTTP status ("200", "429", "error" when no
	// answer came).
	TelegramCalls = counters("bonusbot_telegram_api_calls_total", "Bot API calls, by method and status code.", "method", "code")
	// TelegramSeconds is the latency of Bot API calls, by method (getUpdates long-polls: expect its poll timeout).
	TelegramSeconds = histograms("bonusbot_telegram_api_call_duration_seconds", "Latency of Bot API calls, by method.", "method")
	// SMS counts SMS gateway sends by outcome (sent, failed).
	SMS = counters("bonusbot_sms_sends_total", "SMS sends, by outcome.", "outcome")
	// Warnings counts expiry warnings by channel (telegram, sms, none) and outcome (sent, skipped,
	// failed, in_doubt).
	Warnings = counters("bonusbot_expiry_warnings_total", "Expiry warnings, by channel and outcome.", "channel", "outcome")
	// WarningsPlanned counts warnings the daily plan chose, by kind (weekly, week_before).
	WarningsPlanned = counters("bonusbot_expiry_warnings_planned_total", "Expiry warnings planned, by kind.", "kind")
	// Fulfilments counts settled orders by outcome (fulfilled, refunded) and whether a partner was asked.
	Fulfilments = counters("bonusbot_order_fulfilments_total", "Orders settled by fulfilment, by outcome.", "outcome")
	// SweptLots and SweptPoints count what the expiry sweep job burnt in this process.
	SweptLots   = counter("bonusbot_expiry_swept_lots_total", "Lots the expiry sweep removed in this process.")
	SweptPoints = counter("bonusbot_expiry_swept_points_total", "Points the expiry sweep burnt in this process.")
)

func init() {
	Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

func counters(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	Registry.MustRegister(c)
	return c
}

func counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	Registry.MustRegister(c)
	return c
}

func histograms(name, help string, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, labels)
	Registry.MustRegister(h)
	return h
}

// Observe records one call's latency in h and its outcome in c under the same first label (op, kind…).
func Observe(c *prometheus.CounterVec, h *prometheus.HistogramVec, label, outcome string, start time.Time) {
	h.WithLabelValues(label).Observe(time.Since(start).Seconds())
	c.WithLabelValues(label, outcome).Inc()
}

// Handler serves the process-wide metrics and those of the given per-server collectors, in
// Prometheus' text format.
func Handler(local ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	for _, c := range local {
		reg.MustRegister(c)
	}
	return promhttp.HandlerFor(prometheus.Gatherers{Registry, reg}, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
