-- One row per monthly report delivered by e-mail (`send-reports`): a month's report goes to
-- a subscriber once; a failed delivery leaves no row and is tried again on the next run.
CREATE TABLE IF NOT EXISTS report_sendings (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    month DATE NOT NULL,              -- the report's month (first day)
    login VARCHAR NOT NULL,           -- the subscriber, as in the users file
    email VARCHAR NOT NULL,
    as_of DATE NOT NULL,              -- the Stichtag of the report sent
    files VARCHAR NOT NULL,           -- the attachments' names, comma-separated
    sent_by VARCHAR NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    UNIQUE (month, login)
);
