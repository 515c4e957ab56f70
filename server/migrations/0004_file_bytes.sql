-- Natter relay schema 4: bytes of files each account uploaded, for the
-- per-account quota (`limits.account_file_bytes`). Counted from this schema
-- on; files uploaded before are not in it.
CREATE TABLE file_bytes (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    bytes BIGINT NOT NULL
);
