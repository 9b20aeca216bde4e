-- Fewer index entries written for every item (issue 8: the writer's cost per item).
--
-- `items_by_cluster` held an entry for every item, and all but a story's copies hold
-- NULL there. Every query of it asks `duplicate_of = ?` or `IN (...)`, which imply
-- `IS NOT NULL`, so a partial index of the copies answers them all, and an item that
-- is no copy (nineteen in twenty) writes no entry.
DROP INDEX IF EXISTS items_by_cluster;
CREATE INDEX items_by_cluster ON items (duplicate_of) WHERE duplicate_of IS NOT NULL;
