package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The programme's expiry-warning rules. A member whose points burn within WarnWindowDays hears of it
// at most once every WarnEveryDays (what burns in the window, and the nearest date); besides, a burn of
// at least WarnBigBurn points is announced WarnBeforeDays before its date unless the member was warned
// within the last WarnQuietDays. Both are decided by the daily plan (PlanWarnings) and sent by a job.
const (
	WarnWindowDays = 30
	WarnEveryDays  = 7
	WarnBeforeDays = 7
	WarnBigBurn    = 100
	WarnQuietDays  = 3
)

// Warning kinds.
const (
	WarnWeekly     = "weekly"
	WarnWeekBefore = "week_before"
)

// Warning is one expiry warning the plan chose.
type Warning struct {
	ID        int64
	AccountID int64
	Kind      string    // WarnWeekly or WarnWeekBefore
	PlannedOn time.Time // local date, as midnight UTC
	BurnOn    time.Time // weekly: the nearest burn when planned; week_before: the burn it announces
	Points    int64     // weekly: what burnt within the window when planned; week_before: that burn
}

// WarningPlanRequest says which members can be reached.
type WarningPlanRequest struct {
	Channels []string // chat channels that deliver warnings ("telegram"): members with an active link there
	SMS      bool     // members with no such chat are warned by SMS
	Chunk    int      // accounts per transaction; default 5000
}

// warnPlanLock serialises plans (two replicas, a retry beside its original): each chunk's transaction
// takes it before reading which members were warned lately, so no two plans decide on the same
// member from the same stale view.
const warnPlanLock = `SELECT pg_advisory_xact_lock(hashtext('bonusbot.expiry_warnings.plan'))`

// PlanWarnings chooses today's expiry warnings by the rules above, in transactions of req.Chunk
// accounts, and records them; claimed runs inside each chunk's transaction with the warnings it
// chose, so what it writes (their send jobs) commits with them or not at all. Members who turned
// warnings off, blocked accounts and members who cannot be reached are left out. Running it again the
// same day chooses nothing new. It returns how many warnings it chose.
func (s *Store) PlanWarnings(ctx context.Context, req WarningPlanRequest, claimed func(ctx context.Context, tx pgx.Tx, ws []Warning) error) (int, error) {
	now := s.now()
	today := s.LocalDate(now)
	chunk := int64(req.Chunk)
	if chunk <= 0 {
		chunk = 5000
	}
	var lo, hi int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM accounts`).Scan(&lo, &hi); err != nil {
		return 0, fmt.Errorf("ledger: plan warnings: %w", err)
	}
	total := 0
	for ; lo <= hi; lo += chunk {
		ws, err := withTx(ctx, s.pool, func(tx pgx.Tx) ([]Warning, error) {
			if err := setBulkTimeout(ctx, tx); err != nil {
				return nil, err
			}
			if _, err := tx.Exec(ctx, warnPlanLock); err != nil {
				return nil, fmt.Errorf("lock: %w", err)
			}
			ws, err := planChunk(ctx, tx, req, lo, lo+chunk, today, now)
			if err != nil || len(ws) == 0 {
				return ws, err
			}
			return ws, claimed(ctx, tx, ws)
		})
		if err != nil {
			return total, fmt.Errorf("ledger: plan warnings: %w", err)
		}
		total += len(ws)
	}
	return total, nil
}

// planChunk chooses and records the warnings due today for accounts [lo, hi). A member due both kinds
// gets the week-before one: it says more, and one message a day is enough.
func planChunk(ctx context.Context, tx pgx.Tx, req WarningPlanRequest, lo, hi int64, today, now time.Time) ([]Warning, error) {
	rows, err := tx.Query(ctx, `
		WITH burns AS (
			SELECT account_id, sum(points) AS soon, min(expires_on) AS nearest,
			       coalesce(sum(points) FILTER (WHERE expires_on = $4), 0) AS week_points
			FROM lots
			WHERE account_id >= $1 AND account_id < $2 AND expires_on >= $3 AND expires_on < $5 AND points > 0
			GROUP BY account_id
		), reachable AS (
			SELECT b.*, (SELECT max(w.planned_on) FROM expiry_warnings w
			             WHERE w.account_id = b.account_id AND w.state <> 'skipped') AS last_on
			FROM burns b JOIN accounts a ON a.id = b.account_id
			WHERE NOT a.blocked
			  AND NOT EXISTS (SELECT 1 FROM warning_settings ws WHERE ws.account_id = b.account_id AND NOT ws.enabled)
			  AND ($6 OR EXISTS (SELECT 1 FROM channel_links l
			                     WHERE l.account_id = b.account_id AND l.active AND l.channel = ANY($7)))
		), due AS (
			SELECT account_id, soon, nearest, week_points, CASE
				WHEN week_points >= $8 AND (last_on IS NULL OR last_on <= $3::date - $9::int)
				     AND NOT EXISTS (SELECT 1 FROM expiry_warnings w
				                     WHERE w.account_id = r.account_id AND w.kind = 'week_before' AND w.burn_on = $4)
					THEN 'week_before'
				WHEN last_on IS NULL OR last_on <= $3::date - $10::int THEN 'weekly'
			END AS kind
			FROM reachable r
		)
		INSERT INTO expiry_warnings (account_id, kind, planned_on, burn_on, points, created_at)
		SELECT account_id, kind, $3, CASE kind WHEN 'week_before' THEN $4 ELSE nearest END,
		       CASE kind WHEN 'week_before' THEN week_points ELSE soon END, $11
		FROM due WHERE kind IS NOT NULL
		ON CONFLICT DO NOTHING
		RETURNING id, account_id, kind, planned_on, burn_on, points`,
		lo, hi, today, today.AddDate(0, 0, WarnBeforeDays), today.AddDate(0, 0, WarnWindowDays),
		req.SMS, req.Channels, WarnBigBurn, WarnQuietDays, WarnEveryDays, now)
	if err != nil {
		return nil, fmt.Errorf("choose: %w", err)
	}
	ws, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Warning])
	if err != nil {
		return nil, fmt.Errorf("choose: %w", err)
	}
	return ws, nil
}

// WarningNotice is a warning being sent, with what it says as of the send.
type WarningNotice struct {
	Warning
	Enabled bool      // the member has not turned warnings off since the plan
	Soon    int64     // points burning within WarnWindowDays of today
	Nearest Burn      // the nearest burn; zero when nothing burns
	Burn    int64     // week_before: the points still burning on BurnOn
	Phone   string    // the account's first phone, for an SMS
	Today   time.Time // the local date of the send
}

// Warning states after a send (see FinishWarning).
const (
	WarnSent    = "sent"
	WarnSkipped = "skipped"
	WarnPlanned = "planned" // the send failed and may be tried again
)

// BeginWarning marks a planned warning as being sent and returns what it should say as of now. ok is
// false when the warning is not waiting to be sent: already sent or skipped, or a send of it was cut
// off before its outcome was recorded — that one is marked in_doubt and never sent again, so a crash
// can lose a warning but never repeat one.
func (s *Store) BeginWarning(ctx context.Context, id int64) (WarningNotice, bool, error) {
	now := s.now()
	n, err := withTx(ctx, s.pool, func(tx pgx.Tx) (WarningNotice, error) {
		n := WarningNotice{Today: s.LocalDate(now)}
		err := tx.QueryRow(ctx, `
			UPDATE expiry_warnings SET state = 'sending' WHERE id = $1 AND state = 'planned'
			RETURNING id, account_id, kind, planned_on, burn_on, points`, id).
			Scan(&n.ID, &n.AccountID, &n.Kind, &n.PlannedOn, &n.BurnOn, &n.Points)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `UPDATE expiry_warnings SET state = 'in_doubt', settled_at = $2
				WHERE id = $1 AND state = 'sending'`, id, now)
			return WarningNotice{}, err // ID 0: nothing to send
		}
		if err != nil {
			return WarningNotice{}, err
		}
		return n, warningFacts(ctx, tx, &n)
	})
	if err != nil {
		return WarningNotice{}, false, fmt.Errorf("ledger: begin warning %d: %w", id, err)
	}
	return n, n.ID != 0, nil
}

func warningFacts(ctx context.Context, tx pgx.Tx, n *WarningNotice) error {
	var nearest *time.Time
	err := tx.QueryRow(ctx, `
		SELECT NOT EXISTS (SELECT 1 FROM warning_settings WHERE account_id = $1 AND NOT enabled),
		       coalesce((SELECT sum(points) FROM lots WHERE account_id = $1 AND expires_on >= $2 AND expires_on < $3), 0),
		       (SELECT min(expires_on) FROM lots WHERE account_id = $1 AND expires_on >= $2 AND points > 0),
		       coalesce((SELECT points FROM lots WHERE account_id = $1 AND expires_on = $4), 0),
		       coalesce((SELECT phone FROM phones WHERE account_id = $1 ORDER BY added_at, phone LIMIT 1), '')`,
		n.AccountID, n.Today, n.Today.AddDate(0, 0, WarnWindowDays), n.BurnOn).
		Scan(&n.Enabled, &n.Soon, &nearest, &n.Burn, &n.Phone)
	if err != nil {
		return fmt.Errorf("facts: %w", err)
	}
	if nearest != nil {
		n.Nearest.On = *nearest
		err = tx.QueryRow(ctx, `SELECT points FROM lots WHERE account_id = $1 AND expires_on = $2`, n.AccountID, *nearest).Scan(&n.Nearest.Points)
	}
	return err
}

// FinishWarning records how a send begun with BeginWarning ended: WarnSent (channel says where),
// WarnSkipped, or WarnPlanned to let a retry send it.
func (s *Store) FinishWarning(ctx context.Context, id int64, state, channel string) error {
	settled := &[]time.Time{s.now()}[0]
	if state == WarnPlanned {
		settled = nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE expiry_warnings SET state = $2, channel = nullif($3, ''), settled_at = $4
		WHERE id = $1 AND state = 'sending'`, id, state, channel, settled)
	if err != nil {
		return fmt.Errorf("ledger: finish warning %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("ledger: finish warning %d: not being sent", id)
	}
	return nil
}

// SetWarnings turns an account's expiry warnings on or off.
func (s *Store) SetWarnings(ctx context.Context, accountID int64, on bool) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO warning_settings (account_id, enabled, changed_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET enabled = EXCLUDED.enabled, changed_at = EXCLUDED.changed_at`,
		accountID, on, s.now())
	if isCode(err, "23503") { // foreign_key_violation
		return ErrUnknownAccount
	}
	if err != nil {
		return fmt.Errorf("ledger: set warnings: %w", err)
	}
	return nil
}

// WarningsOn says whether an account gets expiry warnings (on unless turned off).
func (s *Store) WarningsOn(ctx context.Context, accountID int64) (bool, error) {
	var on bool
	err := s.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM warning_settings WHERE account_id = $1 AND NOT enabled)`, accountID).Scan(&on)
	if err != nil {
		return false, fmt.Errorf("ledger: warnings on: %w", err)
	}
	return on, nil
}
