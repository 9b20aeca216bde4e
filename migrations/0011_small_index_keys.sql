-- Smaller index entries for every item (issue 8: the writer's cost per item, and a
-- cost that does not grow with the database).
--
-- Each new item lands on a random leaf page of each index keyed by random text; the
-- more of an index fits the writer's page cache, the fewer pages it reads and
-- writes per item. Two such indexes get a much smaller key:

-- One index of links instead of two: `items_by_link` (`explain LINK`) and
-- `items_by_canonical_url` (the same-link dedup candidates, and `explain` by a link
-- with tracking parameters) held every item's link twice, as text. Now one 64-bit hash
-- of the canonical link (`url_hash`: the first 8 bytes of its SHA-256,
-- `rows::text_hash`), about 12 bytes an entry instead of two of 60; each lookup compares
-- the text after the hash (`url_hash = ? AND link = ?`, `... AND canonical_url = ?`).
-- The program fills it for the rows stored before (`schema::migrate`), in this
-- transaction: SQL has no hash function.
ALTER TABLE items ADD COLUMN url_hash INTEGER;
DROP INDEX IF EXISTS items_by_link;
DROP INDEX IF EXISTS items_by_canonical_url;
CREATE INDEX items_by_url_hash ON items (url_hash) WHERE url_hash IS NOT NULL;

-- `items --all` and retention's `sort_date < cutoff`: the date alone. The key made
-- each entry three times longer; listings order ties by key with a sort of the ties
-- only (`USE TEMP B-TREE FOR RIGHT PART OF ORDER BY`), and the row id is in every
-- entry already.
DROP INDEX IF EXISTS items_by_date;
CREATE INDEX items_by_date ON items (sort_date DESC);

-- The future-date triggers of 0006 called `strftime` twice for every row written.
-- A date to correct is after the first sighting (it is more than an hour after it),
-- so a comparison of two columns first lets every other row through at the cost of
-- one text comparison. Same condition, same correction.
DROP TRIGGER IF EXISTS items_future_date_insert;
CREATE TRIGGER items_future_date_insert AFTER INSERT ON items
    WHEN NEW.sort_date > NEW.first_seen
     AND NEW.sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 hour')
     AND NEW.sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', NEW.first_seen, '+1 hour')
BEGIN
    UPDATE items SET sort_date = NEW.first_seen WHERE id = NEW.id;
END;

DROP TRIGGER IF EXISTS items_future_date_update;
CREATE TRIGGER items_future_date_update AFTER UPDATE OF sort_date ON items
    WHEN NEW.sort_date > NEW.first_seen
     AND NEW.sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 hour')
     AND NEW.sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', NEW.first_seen, '+1 hour')
BEGIN
    UPDATE items SET sort_date = NEW.first_seen WHERE id = NEW.id;
END;

-- The copies of a story with their relevance, so that the topics of a cluster
-- (`clusters::cluster_topics`, for every new copy) are read from the index alone, not
-- from each copy's row, one random page each: the farm's wire stories have hundreds
-- of copies. Still only the copies have an entry.
DROP INDEX IF EXISTS items_by_cluster;
CREATE INDEX items_by_cluster ON items (duplicate_of, relevant) WHERE duplicate_of IS NOT NULL;
