-- The first event of a stream has no previous event to look up (there is no sequence 0): an
-- import writes thousands of new streams in one statement, and the per-row lookup was most of
-- this trigger's cost there. Same hashes as before (0006_tamper_evidence.sql).
CREATE OR REPLACE FUNCTION events_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous bytea;
BEGIN
    IF NEW.sequence > 1 THEN
        SELECT e.hash INTO previous FROM events e
         WHERE e.aggregate_type = NEW.aggregate_type AND e.aggregate_id = NEW.aggregate_id
           AND e.sequence = NEW.sequence - 1;
    END IF;
    -- A previous event without a hash (no digest) leaves this one without a hash too.
    IF NEW.sequence <= 1 OR NOT FOUND THEN
        previous := decode(repeat('00', 32), 'hex');
    END IF;
    NEW.hash := sha256(previous || NEW.digest);
    RETURN NEW;
END
$$;
