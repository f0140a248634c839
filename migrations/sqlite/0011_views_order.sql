-- A document's place in its owner's order, as in migrations/postgres/0012_views_order.sql.
ALTER TABLE views ADD COLUMN ord INTEGER;
DROP INDEX views_owner;
CREATE INDEX views_owner ON views (collection, owner, ord, id);
UPDATE views SET owner = json_extract(doc, '$._dc.c'), ord = json_extract(doc, '$._dc.n')
 WHERE collection = 'datacube_documents';
