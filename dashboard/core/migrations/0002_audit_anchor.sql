-- Where the log starts after the retention purge removed its oldest entries
-- (dashboard.core.retention): the last removed entry's seq and chain, and an HMAC over
-- both, so that nobody without the key can move the start to hide removed entries.
CREATE TABLE IF NOT EXISTS audit_anchor (
    seq BIGINT NOT NULL,
    chain VARCHAR NOT NULL,
    cut_before TIMESTAMP NOT NULL,
    mac VARCHAR NOT NULL
);
