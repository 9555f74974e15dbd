-- +goose Up
-- Points live in lots; the journal records every change as balanced entries. Lots are mutable state
-- (the working set), the journal is the append-only truth that lots can be re-derived from.

CREATE TABLE accounts (
    id         bigserial PRIMARY KEY,
    blocked    boolean     NOT NULL DEFAULT false,
    -- Points clawed back by reversals that the account could not cover; later accruals pay it first.
    debt       bigint      NOT NULL DEFAULT 0 CHECK (debt >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE phones (
    phone      text PRIMARY KEY,            -- E.164, normalised by ledger.ParsePhone
    account_id bigint      NOT NULL REFERENCES accounts (id),
    added_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phones_account_idx ON phones (account_id);

-- One lot per (account, expiry date): accruals landing on the same expiry date merge.
-- Lots, billing events and journal lines carry account ids without foreign keys: the ledger writes them
-- only in transactions that hold the account's lock, accounts are never deleted, and the checks cost bulk
-- imports and the sweep a large share of their time.
CREATE TABLE lots (
    account_id bigint NOT NULL,
    expires_on date   NOT NULL,             -- usable through this local date, burns at the next local midnight
    points     bigint NOT NULL CHECK (points >= 0),
    PRIMARY KEY (account_id, expires_on)
);
-- The sweep walks due lots in (expires_on, account_id) order with a cursor, so it never rescans what it burnt.
CREATE INDEX lots_expires_idx ON lots (expires_on, account_id);

-- Journal entries. A transaction (tx_id) is a set of entries summing to zero. Books:
--   lot        points in an account's lot (account_id, expires_on set)
--   debt       an account's debt, negative when owed (account_id set)
--   issuance, redemption, expiry, adjustment   system books (account_id NULL)
CREATE SEQUENCE journal_tx_seq;
-- No surrogate key: entries are found by transaction or by account, and a third index would slow every write.
CREATE TABLE journal (
    tx_id      bigint      NOT NULL,
    kind       text        NOT NULL,        -- accrual, reversal, redeem, refund, gift, expiry, adjustment
    book       text        NOT NULL CHECK (book IN ('lot', 'debt', 'issuance', 'redemption', 'expiry', 'adjustment')),
    account_id bigint,                      -- no foreign key, as for lots
    expires_on date,
    points     bigint      NOT NULL,
    detail     text        NOT NULL DEFAULT '', -- category, item code, counterparty phone, reversed event id
    at         timestamptz NOT NULL,        -- when it took effect: an accrual's or reversal's event time, else now
    CHECK ((book IN ('lot', 'debt')) = (account_id IS NOT NULL)),
    CHECK ((book = 'lot') = (expires_on IS NOT NULL))
);
CREATE INDEX journal_account_idx ON journal (account_id, tx_id) WHERE account_id IS NOT NULL;
-- tx_id only grows, so a BRIN index finds a transaction's entries at a fraction of a btree's write cost.
CREATE INDEX journal_tx_idx ON journal USING brin (tx_id);

-- +goose StatementBegin
CREATE FUNCTION journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal is append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_is_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION journal_is_append_only();

-- Earn rules are data: a category earns floor(kopecks / kopecks_per_point), or fixed_points per event.
CREATE TABLE earn_rules (
    category          text PRIMARY KEY,
    kopecks_per_point bigint CHECK (kopecks_per_point > 0),
    fixed_points      bigint CHECK (fixed_points > 0),
    CHECK ((kopecks_per_point IS NULL) <> (fixed_points IS NULL))
);
INSERT INTO earn_rules (category, kopecks_per_point, fixed_points) VALUES
    ('mobile', 500, NULL), ('home_internet', 500, NULL), ('tv', 500, NULL),
    ('bank_card', 3000, NULL), ('salon', 300, NULL), ('referral', NULL, 50);

-- Billing events, kept for idempotency: a replayed id is a duplicate, the same id with other content a conflict.
CREATE TABLE billing_events (
    id             text PRIMARY KEY,
    phone          text,
    category       text,
    amount_kopecks bigint,
    points         bigint,
    reverses       text,                   -- the accrual this reversal claws back (checked before insert)
    occurred_at    timestamptz NOT NULL,
    account_id     bigint      NOT NULL,
    awarded        bigint      NOT NULL,   -- points credited (accrual) or clawed back (reversal)
    expires_on     date,                   -- the lot an accrual went into
    tx_id          bigint      NOT NULL,
    received_at    timestamptz NOT NULL
);
-- One reversal per accrual; most events reverse nothing, so they stay out of the index.
CREATE UNIQUE INDEX billing_events_reverses_key ON billing_events (reverses) WHERE reverses IS NOT NULL;

CREATE TABLE catalog_items (
    code     text PRIMARY KEY,
    category text    NOT NULL,
    title_ru text    NOT NULL,
    title_en text    NOT NULL,
    cost     bigint  NOT NULL CHECK (cost > 0),
    stock    bigint CHECK (stock >= 0),    -- NULL: unlimited
    active   boolean NOT NULL DEFAULT true
);

CREATE TABLE orders (
    id         bigserial PRIMARY KEY,
    account_id bigint      NOT NULL REFERENCES accounts (id),
    item_code  text        NOT NULL REFERENCES catalog_items (code),
    cost       bigint      NOT NULL,
    status     text        NOT NULL DEFAULT 'placed' CHECK (status IN ('placed', 'completed', 'failed')),
    request_key text UNIQUE,               -- idempotency key of the redeem request
    tx_id      bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    settled_at timestamptz
);
CREATE INDEX orders_account_idx ON orders (account_id, id);

-- Which lots an order took its points from, so a failed order refunds into the same lots.
CREATE TABLE order_parts (
    order_id   bigint NOT NULL REFERENCES orders (id),
    expires_on date   NOT NULL,
    points     bigint NOT NULL CHECK (points > 0),
    PRIMARY KEY (order_id, expires_on)
);

CREATE TABLE gifts (
    id            bigserial PRIMARY KEY,
    from_account  bigint      NOT NULL REFERENCES accounts (id),
    to_account    bigint      NOT NULL REFERENCES accounts (id),
    from_phone    text        NOT NULL,
    to_phone      text        NOT NULL,
    points        bigint      NOT NULL CHECK (points > 0),
    tx_id         bigint      NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX gifts_from_idx ON gifts (from_account, created_at);

-- +goose Down
DROP TABLE gifts, order_parts, orders, catalog_items, billing_events, earn_rules, journal, lots, phones, accounts;
DROP SEQUENCE journal_tx_seq;
DROP FUNCTION journal_is_append_only;
