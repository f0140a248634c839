-- Collections read only by id (a user's profile, rewritten on every profile change) need no
-- document index, and a write of an indexed document pays for one GIN entry per leaf value.
-- The view store sets `indexed` per collection on every write; searches of indexed collections
-- say `AND indexed`, which lets the planner use the partial index. Rows written before this
-- migration keep `true` until their next write or a rebuild (harmless: merely indexed).
ALTER TABLE views ADD COLUMN indexed boolean NOT NULL DEFAULT true;
DROP INDEX views_doc;
CREATE INDEX views_doc ON views USING gin (doc jsonb_path_ops)
    WITH (gin_pending_list_limit = 128)
    WHERE indexed;
