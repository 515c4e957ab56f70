-- Natter relay schema 3: what the nodes of a cluster share while they run.
--
-- `nodes`: each running node and when it last said it is alive. A node that
-- has not been seen for a while is dead; the others remove it, and its
-- connections with it.
CREATE TABLE nodes (
    id BIGINT PRIMARY KEY,
    seen TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- `connections`: the open WebSocket sessions of every node, for presence (an
-- account is online if any node holds one of its connections) and for finding
-- a device wherever it is connected.
CREATE TABLE connections (
    node BIGINT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    conn BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    device TEXT NOT NULL,
    PRIMARY KEY (node, conn)
);
CREATE INDEX connections_user ON connections (user_id);

-- `calls`: calls ringing or in progress. `state` is the relay's record of the
-- call; `deadline` (ms since the epoch) is when its ring or a party's grace
-- period runs out, so any node can end a call whose node died.
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    caller BIGINT NOT NULL,
    callee BIGINT NOT NULL,
    deadline BIGINT,
    state JSONB NOT NULL
);
CREATE INDEX calls_caller ON calls (caller);
CREATE INDEX calls_callee ON calls (callee);
CREATE INDEX calls_deadline ON calls (deadline) WHERE deadline IS NOT NULL;
