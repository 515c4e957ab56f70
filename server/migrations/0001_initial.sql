-- Natter relay schema 1. Records are JSON (the serde form of the storage
-- records, as in the embedded backend) so they can grow fields without a
-- migration; the columns beside them are what constraints, locks and indexes
-- need. Ids and seqs are the relay's u64 values, all below 2^53.

-- 'signing_key': the token-signing key every node shares (the TURN secret is
-- derived from it).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

-- Each starting node takes the next number; its low bits go into the ids the
-- node makes, so two nodes never make the same id.
CREATE SEQUENCE node_numbers;

CREATE TABLE users (
    id   BIGINT PRIMARY KEY,
    data JSONB NOT NULL
);

-- 'a:<account>', 'e:<email>', 'p:<phone>': unique across accounts.
CREATE TABLE user_keys (
    key     TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id)
);

CREATE TABLE sessions (
    id           BIGINT PRIMARY KEY,
    user_id      BIGINT NOT NULL,
    refresh_hash TEXT NOT NULL,
    data         JSONB NOT NULL
);

CREATE TABLE friend_requests (
    id        BIGINT PRIMARY KEY,
    from_user BIGINT NOT NULL,
    to_user   BIGINT NOT NULL,
    pending   BOOLEAN NOT NULL,
    data      JSONB NOT NULL
);
-- At most one pending request from one account to another, even when two
-- nodes take the same request at once.
CREATE UNIQUE INDEX friend_requests_one_pending
    ON friend_requests (from_user, to_user) WHERE pending;
CREATE INDEX friend_requests_to_pending ON friend_requests (to_user) WHERE pending;

-- Stored both ways: (user, friend) and (friend, user).
CREATE TABLE friends (
    user_id   BIGINT NOT NULL,
    friend_id BIGINT NOT NULL,
    data      JSONB NOT NULL,
    PRIMARY KEY (user_id, friend_id)
);

-- The 1:1 conversation of a pair, lower id first.
CREATE TABLE direct_conversations (
    user_a          BIGINT NOT NULL,
    user_b          BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    PRIMARY KEY (user_a, user_b)
);

-- last_seq is the conversation's message counter: an append locks the row,
-- takes the next seq and raises it in the transaction that inserts the
-- message, so seqs are gapless whichever node writes.
CREATE TABLE conversations (
    id       BIGINT PRIMARY KEY,
    last_seq BIGINT NOT NULL DEFAULT 0,
    data     JSONB NOT NULL
);

CREATE TABLE members (
    conversation_id BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    data            JSONB NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id, conversation_id);

-- (conversation, sender, client_id) is the idempotency key: a resend to any
-- node finds the first copy.
CREATE TABLE messages (
    conversation_id BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    sender          BIGINT NOT NULL,
    client_id       TEXT NOT NULL,
    data            JSONB NOT NULL,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, sender, client_id)
);

CREATE TABLE read_cursors (
    conversation_id BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

CREATE TABLE events (
    user_id BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    data    JSONB NOT NULL,
    PRIMARY KEY (user_id, seq)
);

-- Each account's event counter, raised under its row lock.
CREATE TABLE event_seqs (
    user_id BIGINT PRIMARY KEY,
    seq     BIGINT NOT NULL
);
