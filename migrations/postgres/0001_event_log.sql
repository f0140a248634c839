-- The event log: the postgres-es schema plus the global order (see DESIGN.md section 3).
CREATE TABLE events (
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    sequence       bigint NOT NULL CHECK (sequence >= 0),
    event_type     text   NOT NULL,
    event_version  text   NOT NULL,
    payload        jsonb  NOT NULL,
    metadata       jsonb  NOT NULL,
    -- Insertion order; commit order can differ, hence tx_id.
    global_id      bigint GENERATED ALWAYS AS IDENTITY,
    -- The writing transaction: readers only pass rows below the oldest running transaction.
    tx_id          xid8   NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE UNIQUE INDEX events_global_order ON events (tx_id, global_id);

-- Where the relay has got to: advanced only after the bus acknowledged.
CREATE TABLE relay_cursor (
    name       text        PRIMARY KEY,
    tx_id      xid8        NOT NULL,
    global_id  bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
