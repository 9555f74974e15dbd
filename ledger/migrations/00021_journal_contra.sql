-- +goose Up
-- A journal line may name the system book on its other side (contra). Such a line records a whole
-- transfer between that book and an account's lot or debt, balanced by itself: an accrual is one line
-- (issuance into a lot), not two. Lines without a contra balance within their transaction as before,
-- as a gift's do and as every line written before this migration does.
-- NOT VALID: rows written before have no contra; new rows are checked.
ALTER TABLE journal ADD COLUMN contra text;
ALTER TABLE journal ADD CONSTRAINT journal_contra_check
    CHECK (contra IS NULL OR (contra IN ('issuance', 'redemption', 'expiry', 'adjustment') AND book IN ('lot', 'debt'))) NOT VALID;

-- The journal as double entries: every line, and for a line with a contra the contra book's entry of
-- the opposite sign. Each transaction's entries sum to zero; each lot and debt equals the sum of its
-- entries (ledgertest.CheckInvariants); a system book's balance is the sum of its entries.
CREATE VIEW journal_entries AS
    SELECT tx_id, kind, book, account_id, expires_on, points, detail, at FROM journal
    UNION ALL
    SELECT tx_id, kind, contra, NULL, NULL, -points, detail, at FROM journal WHERE contra IS NOT NULL;

-- +goose Down
DROP VIEW journal_entries;
ALTER TABLE journal DROP COLUMN contra;
