-- +goose Up
-- The support relay: subscribers write to human agents in a forum supergroup, one topic per account.
-- Everything the relay needs to survive a restart or run on a second replica lives here.

-- An account's topic in a support group, reused for every later conversation of that account.
CREATE TABLE support_topics (
    chat_id    bigint      NOT NULL,               -- the support group (SUPPORT_CHAT_ID)
    account_id bigint      NOT NULL REFERENCES accounts (id),
    thread_id  integer     NOT NULL,               -- the topic's message_thread_id
    closed     boolean     NOT NULL DEFAULT false, -- closed in Telegram: reopen it before the next conversation
    created_at timestamptz NOT NULL,
    PRIMARY KEY (chat_id, account_id),
    UNIQUE (chat_id, thread_id)
);

-- A conversation runs from the first subscriber message while none is open to /close or idleness.
CREATE TABLE support_conversations (
    id           bigserial   PRIMARY KEY,
    chat_id      bigint      NOT NULL,             -- the support group
    account_id   bigint      NOT NULL REFERENCES accounts (id),
    opened_at    timestamptz NOT NULL,
    last_at      timestamptz NOT NULL,             -- the last message either way; idleness counts from here
    user_chat_id bigint,                           -- the chat of the latest subscriber message: where answers go
    closed_at    timestamptz,
    closed_by    bigint,                           -- the agent's Telegram user id; NULL when it closed itself
    close_reason text CHECK (close_reason IN ('agent', 'idle')),
    CHECK ((closed_at IS NULL) = (close_reason IS NULL)),
    CHECK ((close_reason = 'agent') = (closed_by IS NOT NULL))
);
-- At most one open conversation per account and group; concurrent opens meet here.
CREATE UNIQUE INDEX support_conversations_open_key ON support_conversations (chat_id, account_id) WHERE closed_at IS NULL;
CREATE INDEX support_conversations_idle_idx ON support_conversations (last_at) WHERE closed_at IS NULL;

-- Every relayed message with its counterpart, so an edit or a reply finds the other side.
--   in:  a subscriber's message (user_*) and its copy in the topic (topic_msg_id)
--   out: an agent's message in the topic (topic_msg_id) and its copy in the subscriber's chat (user_*)
CREATE TABLE support_messages (
    chat_id         bigint      NOT NULL,          -- the support group
    topic_msg_id    integer     NOT NULL,
    user_chat_id    bigint      NOT NULL,          -- the subscriber's private chat
    user_msg_id     integer     NOT NULL,
    direction       text        NOT NULL CHECK (direction IN ('in', 'out')),
    account_id      bigint      NOT NULL,
    conversation_id bigint      NOT NULL REFERENCES support_conversations (id),
    agent_id        bigint,                        -- out: the agent's Telegram user id (NULL: an anonymous admin)
    at              timestamptz NOT NULL,
    PRIMARY KEY (chat_id, topic_msg_id),
    UNIQUE (user_chat_id, user_msg_id)
);
-- Where an agent's answer goes: the chat of the account's latest subscriber message.
CREATE INDEX support_messages_in_idx ON support_messages (chat_id, account_id, at) WHERE direction = 'in';

-- What agents did to accounts, who and why. An adjustment also names its journal transaction.
CREATE TABLE support_actions (
    id         bigserial   PRIMARY KEY,
    account_id bigint      NOT NULL REFERENCES accounts (id),
    agent_id   bigint      NOT NULL,              -- the agent's Telegram user id
    action     text        NOT NULL CHECK (action IN ('adjust', 'block', 'unblock')),
    points     bigint      NOT NULL DEFAULT 0,    -- adjust: signed
    reason     text        NOT NULL DEFAULT '',
    tx_id      bigint,                            -- adjust: its journal transaction
    at         timestamptz NOT NULL,
    CHECK ((action = 'adjust') = (tx_id IS NOT NULL)),
    CHECK (action <> 'adjust' OR (points <> 0 AND reason <> ''))
);
CREATE INDEX support_actions_account_idx ON support_actions (account_id, id);

-- +goose Down
DROP TABLE support_actions, support_messages, support_conversations, support_topics;
