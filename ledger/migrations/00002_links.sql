-- +goose Up
-- Channel links: who may see an account's points from a chat. A channel user (a Telegram user, a
-- console session) is linked to one account after proving a phone of it; an account may have many links.
CREATE TABLE channel_links (
    channel         text        NOT NULL,          -- 'telegram', 'console'
    channel_user_id bigint      NOT NULL,
    chat_id         bigint      NOT NULL,          -- where to write to the user (private chat)
    account_id      bigint      NOT NULL REFERENCES accounts (id),
    phone           text        NOT NULL,          -- the number proven with a one-time code, E.164
    language        text        NOT NULL DEFAULT 'ru',
    active          boolean     NOT NULL DEFAULT true, -- false once the user blocked the bot
    linked_at       timestamptz NOT NULL,
    PRIMARY KEY (channel, channel_user_id)
);
CREATE INDEX channel_links_account_idx ON channel_links (account_id);

-- +goose Down
DROP TABLE channel_links;
