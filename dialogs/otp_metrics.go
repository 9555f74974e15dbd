package dialogs

import (
	"errors"

	"bonusbot/dialogs/metrics"
)

// countOTP counts the outcome of sending ("send") or checking ("verify") a one-time code:
// bonusbot_otp_events_total{event="sent|send_failed|locked|verified|wrong"}. Other refusals (too soon,
// limits, a number outside the range) and faults are not code events.
func countOTP(step string, err error) {
	event := ""
	switch {
	case errors.Is(err, ErrCodeLocked):
		event = "locked"
	case step == "send" && err == nil:
		event = "sent"
	case step == "send" && errors.Is(err, ErrSMSFailed):
		event = "send_failed"
	case step == "verify" && err == nil:
		event = "verified"
	case step == "verify" && errors.Is(err, ErrCodeWrong):
		event = "wrong"
	}
	if event != "" {
		metrics.OTP.WithLabelValues(event).Inc()
	}
}
