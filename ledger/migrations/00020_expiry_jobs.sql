-- +goose Up
-- Records of the background jobs around expiry. River's tables hold the jobs; these hold what the
-- jobs promise: one sweep per local date, and each expiry warning decided once and sent at most once.

-- One row per local date the daily sweep ran for. A row without finished_at is a sweep that started
-- and did not finish (its retry carries on: the sweep is idempotent).
CREATE TABLE expiry_sweeps (
    local_date  date        PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    runs        integer     NOT NULL DEFAULT 1,   -- starts, retries included
    finished_at timestamptz,
    lots        bigint      NOT NULL DEFAULT 0,   -- summed over runs
    points      bigint      NOT NULL DEFAULT 0
);

-- A subscriber who turned expiry warnings off (or on again). No row: on.
CREATE TABLE warning_settings (
    account_id bigint      PRIMARY KEY REFERENCES accounts (id),
    enabled    boolean     NOT NULL,
    changed_at timestamptz NOT NULL
);

-- Every expiry warning the daily plan chose. Its state moves planned → sending → sent, or to skipped
-- (nothing burns any more, warnings turned off, nowhere to send) or in_doubt (a send was cut off
-- before its outcome was recorded: it is never sent again).
CREATE TABLE expiry_warnings (
    id         bigserial   PRIMARY KEY,
    account_id bigint      NOT NULL REFERENCES accounts (id),
    kind       text        NOT NULL CHECK (kind IN ('weekly', 'week_before')),
    planned_on date        NOT NULL,             -- the local date the plan chose it
    burn_on    date        NOT NULL,             -- weekly: the nearest burn then; week_before: the burn it announces
    points     bigint      NOT NULL,             -- weekly: what burns within 30 days then; week_before: that burn
    state      text        NOT NULL DEFAULT 'planned'
        CHECK (state IN ('planned', 'sending', 'sent', 'skipped', 'in_doubt')),
    channel    text,                             -- where it went: telegram, sms
    created_at timestamptz NOT NULL,
    settled_at timestamptz
);
-- At most one warning a day per account (two plans running at once meet here), and the week-before
-- warning once per burn.
CREATE UNIQUE INDEX expiry_warnings_day_key ON expiry_warnings (account_id, planned_on);
CREATE UNIQUE INDEX expiry_warnings_burn_key ON expiry_warnings (account_id, burn_on) WHERE kind = 'week_before';

-- +goose Down
DROP TABLE expiry_warnings;
DROP TABLE warning_settings;
DROP TABLE expiry_sweeps;
