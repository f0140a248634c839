-- Read models: JSON documents in collections (DESIGN.md section 4).
CREATE TABLE views (
    collection text        NOT NULL,
    id         text        NOT NULL,
    doc        jsonb       NOT NULL,
    owner      text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection, id)
);
CREATE INDEX views_doc ON views USING gin (doc jsonb_path_ops);
CREATE INDEX views_owner ON views (collection, owner);

-- One row per projection: the last event applied, moved in the same transaction as the views.
CREATE TABLE projection_checkpoints (
    projection text        PRIMARY KEY,
    tx_id      xid8        NOT NULL DEFAULT '0',
    global_id  bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
