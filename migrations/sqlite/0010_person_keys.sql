-- Keys that seal personal data in events, one per subject (a person, an address). Erasing a
-- person deletes their rows: the events they sealed stay as stored (the hash chain still
-- verifies) but can no longer be read. Numbered apart from parallel work on the log.
CREATE TABLE IF NOT EXISTS person_keys (
    subject    TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    secret     BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
