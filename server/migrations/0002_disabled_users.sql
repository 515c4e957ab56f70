-- Natter relay schema 2: accounts an operator disabled (`natter-server admin
-- disable`). A disabled account cannot sign in, refresh or use a token.
CREATE TABLE disabled_users (
    user_id BIGINT PRIMARY KEY REFERENCES users (id)
);
