-- The log's identity: every envelope the relay publishes carries it, so a stream belongs to
-- one log (a relay refuses another log's stream; workers ignore another log's messages). A
-- database restored from a backup keeps it, which is how a log behind its stream is noticed.
CREATE TABLE log_identity (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id         text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO log_identity (id) VALUES (gen_random_uuid()::text);
