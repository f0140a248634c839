-- Tamper evidence (contracts/src/integrity): every event's content digest, computed by the
-- writer over the canonical encoding of what it stores, and its chain hash,
-- SHA-256(previous hash of its stream || digest), linked here in the inserting statement:
-- a BEFORE INSERT row trigger sees the rows inserted earlier by the same statement, so the
-- several events of one command chain in one round trip. A row without a digest (written by
-- hand, or by an older annals) gets no hash, nor do the later events of its stream, and
-- `annals verify` names it.
ALTER TABLE events ADD COLUMN digest bytea, ADD COLUMN hash bytea;

CREATE FUNCTION events_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous bytea;
BEGIN
    SELECT e.hash INTO previous FROM events e
     WHERE e.aggregate_type = NEW.aggregate_type AND e.aggregate_id = NEW.aggregate_id
       AND e.sequence = NEW.sequence - 1;
    IF NOT FOUND THEN
        previous := decode(repeat('00', 32), 'hex');
    END IF;
    NEW.hash := sha256(previous || NEW.digest);
    RETURN NEW;
END
$$;
CREATE TRIGGER events_link BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_link();

-- Rows written before this migration are hashed once by annals at its next start
-- (`chain_backfill`: up to this global_id, in each stream's order), never later ones: a row
-- added by hand afterwards must stay unhashed.
CREATE TABLE chain_backfill (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    upto      bigint  NOT NULL,
    done      boolean NOT NULL DEFAULT false
);
INSERT INTO chain_backfill (upto, done)
SELECT coalesce(max(global_id), 0), count(*) = 0 FROM events;

-- Seals written by the leading relay over the global order it published.
CREATE TABLE seals (
    number       bigint      PRIMARY KEY CHECK (number > 0),
    first_tx     xid8        NOT NULL,
    first_gid    bigint      NOT NULL,
    last_tx      xid8        NOT NULL,
    last_gid     bigint      NOT NULL,
    count        bigint      NOT NULL,
    running_hash bytea       NOT NULL,
    sealed_at    timestamptz NOT NULL
);

-- Verification runs (`annals verify`, `GET /api/history/verify`), for "when was it last checked".
CREATE TABLE verify_runs (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finished_at timestamptz NOT NULL,
    source      text        NOT NULL,
    intact      boolean     NOT NULL,
    report      jsonb       NOT NULL
);
