-- One story, published once: each item's comparison keys, and the cluster it joined.
--
-- A cluster is named by its root: the item the others point to with `duplicate_of`
-- (a root's own `duplicate_of` is NULL). The cluster's published item is its earliest
-- stored relevant member, so the first-seen copy is published and the others become
-- its "Also reported by" links. The keys are filled in by the program right after
-- this migration for items stored before it.

ALTER TABLE items ADD COLUMN canonical_url TEXT;
ALTER TABLE items ADD COLUMN title_signature TEXT;
ALTER TABLE items ADD COLUMN duplicate_of INTEGER REFERENCES items (id);

CREATE INDEX items_by_canonical_url ON items (canonical_url);
CREATE INDEX items_by_cluster ON items (duplicate_of);
