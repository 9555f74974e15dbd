-- +goose Up
-- The support group's outbox: every post the relay makes into the support group (a subscriber's
-- message to copy or their edit of it, a note, a topic to close) is a row here before the update that caused it is
-- answered, so a replica that dies loses nothing, and whichever replica holds the outbox's lock
-- posts the rows in id order: one writer across all replicas keeps each topic's order and the
-- group's rate limit.
CREATE TABLE support_outbox (
    id         bigserial   PRIMARY KEY,
    chat_id    bigint      NOT NULL,              -- the support group
    kind       text        NOT NULL CHECK (kind IN ('relay', 'edit', 'note', 'close')),
    payload    jsonb       NOT NULL,              -- the kind's data; the relay (bot/support) reads it
    created_at timestamptz NOT NULL,
    attempts   integer     NOT NULL DEFAULT 0,    -- transient failures so far (network, 429, 5xx)
    failed_at  timestamptz,                       -- set when a post failed for good (a 400): never retried
    last_error text
);
-- What is still to post, in order. Posted rows are deleted (the message map keeps what matters);
-- failed ones stay for a person to read.
CREATE INDEX support_outbox_pending_idx ON support_outbox (chat_id, id) WHERE failed_at IS NULL;

-- +goose Down
DROP TABLE support_outbox;
