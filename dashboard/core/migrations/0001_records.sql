-- The records as of the first release: conversations (A10), sample draws and results (B3),
-- the keyed audit chain. Written once for both backends (DuckDB and PostgreSQL): plain types,
-- one sequence for every id. IF NOT EXISTS: databases made before migrations were versioned
-- already have these tables and keep them as they are.
CREATE SEQUENCE IF NOT EXISTS record_ids;
CREATE TABLE IF NOT EXISTS conversations (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    worker VARCHAR NOT NULL,
    month DATE NOT NULL,              -- the month of due date of the repeat case (A10)
    held_on DATE NOT NULL,            -- the date the conversation took place
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS sample_draws (
    draw_id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    drawn_by VARCHAR NOT NULL,
    drawn_at TIMESTAMP NOT NULL,
    as_of DATE NOT NULL,
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    teams VARCHAR[] NOT NULL,         -- empty: all Integration teams
    method VARCHAR NOT NULL,          -- 'per_worker', 'size' or 'percent'
    amount DOUBLE PRECISION NOT NULL,
    seed BIGINT NOT NULL,
    population INTEGER NOT NULL
);
-- What was drawn, as it was when drawn: a later export cannot change a recorded sample.
CREATE TABLE IF NOT EXISTS sample_items (
    draw_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    ticket_id VARCHAR NOT NULL,
    team VARCHAR NOT NULL,
    worker VARCHAR NOT NULL,
    receipt_date DATE NOT NULL,
    due_date DATE NOT NULL,
    completion_date DATE NOT NULL,
    status VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,    -- fingerprint of the ticket's events when drawn
    PRIMARY KEY (draw_id, position)
);
-- Append-only: the latest result of a ticket in a draw counts, earlier ones stay.
CREATE TABLE IF NOT EXISTS sample_results (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    draw_id BIGINT NOT NULL,
    ticket_id VARCHAR NOT NULL,
    result VARCHAR NOT NULL CHECK (result IN ('bestätigt', 'nicht bestätigt')),
    comment VARCHAR,
    checked_by VARCHAR NOT NULL,
    checked_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    logged_at TIMESTAMP NOT NULL,
    who VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    detail VARCHAR,
    seq BIGINT NOT NULL UNIQUE,      -- 1, 2, 3, ... without gaps: a missing entry is a break
    -- HMAC-SHA256, keyed outside this database, over the previous entry's chain and this
    -- entry: an entry changed, deleted or inserted afterwards breaks the chain, and nobody
    -- without the key can compute a new one (`records.verify_audit`).
    chain VARCHAR NOT NULL
);
