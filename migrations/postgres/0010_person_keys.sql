-- Keys that seal personal data in events, one per subject (a person, an address). Erasing a
-- person deletes their rows: the events they sealed stay as stored (the hash chain still
-- verifies) but can no longer be read. Numbered apart from parallel work on the log.
CREATE TABLE IF NOT EXISTS person_keys (
    subject    text PRIMARY KEY,
    key_id     text NOT NULL,
    secret     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
