-- +goose Up
-- An accrual that pays no debt is one journal line, issuance into its lot (00021), and its billing
-- event already holds every column of that line: tx_id, account_id, expires_on, awarded, category,
-- occurred_at. From now on such an accrual writes its event only, marked journal_line, and the line is
-- read from the event: a bulk import writes one row an event less. The journal's other lines move to
-- journal_lines, and journal becomes the view of both, so every reader still sees every line.

-- +goose StatementBegin
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;
-- +goose StatementEnd

ALTER TABLE billing_events ADD COLUMN journal_line boolean NOT NULL DEFAULT false;
-- NOT VALID: rows written before carry no line; new rows are checked.
ALTER TABLE billing_events ADD CONSTRAINT billing_events_journal_line_check
    CHECK (NOT journal_line OR (reverses IS NULL AND awarded > 0 AND expires_on IS NOT NULL)) NOT VALID;
-- An account's lines carried by events, found as journal_account_idx finds the others.
CREATE INDEX billing_events_line_idx ON billing_events (account_id, tx_id) WHERE journal_line;
-- An event that carries a journal line is part of the journal, so billing events are append-only too
-- (the ledger never changed one).
CREATE TRIGGER billing_events_append_only BEFORE UPDATE OR DELETE ON billing_events
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER billing_events_no_truncate BEFORE TRUNCATE ON billing_events
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

DROP VIEW journal_entries;
ALTER TABLE journal RENAME TO journal_lines;
CREATE VIEW journal AS
    SELECT tx_id, kind, book, account_id, expires_on, points, detail, at, contra FROM journal_lines
    UNION ALL
    SELECT tx_id, 'accrual', 'lot', account_id, expires_on, awarded, category, occurred_at, 'issuance'
    FROM billing_events WHERE journal_line;
-- As in 00021, now over both.
CREATE VIEW journal_entries AS
    SELECT tx_id, kind, book, account_id, expires_on, points, detail, at FROM journal
    UNION ALL
    SELECT tx_id, kind, contra, NULL, NULL, -points, detail, at FROM journal WHERE contra IS NOT NULL;

-- +goose Down
DROP VIEW journal_entries;
DROP VIEW journal;
ALTER TABLE journal_lines RENAME TO journal;
CREATE VIEW journal_entries AS
    SELECT tx_id, kind, book, account_id, expires_on, points, detail, at FROM journal
    UNION ALL
    SELECT tx_id, kind, contra, NULL, NULL, -points, detail, at FROM journal WHERE contra IS NOT NULL;
DROP TRIGGER billing_events_no_truncate ON billing_events;
DROP TRIGGER billing_events_append_only ON billing_events;
DROP INDEX billing_events_line_idx;
ALTER TABLE billing_events DROP COLUMN journal_line;
DROP FUNCTION append_only;
