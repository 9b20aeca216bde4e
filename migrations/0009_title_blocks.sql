-- The dedup candidates of a new relevant item are found through blocking keys of the
-- relevant items' titles (src/dedup/blocking.rs: pairs of word heads, the pairs among
-- the rarest words, one-edit keys) instead of reading every relevant item of the
-- window: the cost is the story's copies, not the history.
--
-- SQL cannot compute the keys (they come from the title signature). Rows are written
-- by the program for the items the triggers below queue in `title_blocks_pending`,
-- before the next placement reads the index (and for every relevant item at once by
-- `schema::migrate` after this migration). Rows of the items a retention prune or
-- purge deletes go with them; those of an item that turns irrelevant, changes title
-- or is deleted otherwise stay: a stale row only proposes a candidate that the
-- comparison then rejects.
--
-- Written to run twice harmlessly (IF NOT EXISTS, OR IGNORE): migration 0008 belongs
-- to a branch merged after this one, and a database made by a build without it would
-- count this one as 0008.
CREATE TABLE IF NOT EXISTS title_blocks (
    kind INTEGER NOT NULL,     -- dedup::blocking::Kind
    key INTEGER NOT NULL,
    head INTEGER NOT NULL,     -- Fuzzy: the head of the word the key comes from; else 0
    item_id INTEGER NOT NULL,
    PRIMARY KEY (kind, key, head, item_id)
) WITHOUT ROWID;

-- Relevant items whose title signature has no rows yet.
CREATE TABLE IF NOT EXISTS title_blocks_pending (item_id INTEGER PRIMARY KEY);

-- The threshold the picked pairs were chosen for (one row): they guarantee every near
-- duplicate at it or above; a lower `dedup_threshold` re-keys every item.
CREATE TABLE IF NOT EXISTS title_blocks_threshold (threshold REAL NOT NULL);

CREATE TRIGGER IF NOT EXISTS title_blocks_insert AFTER INSERT ON items
WHEN NEW.relevant = 1 AND NEW.title_signature IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO title_blocks_pending (item_id) VALUES (NEW.id);
END;

CREATE TRIGGER IF NOT EXISTS title_blocks_update AFTER UPDATE OF title_signature, relevant ON items
WHEN NEW.relevant = 1 AND NEW.title_signature IS NOT NULL
    AND (OLD.relevant IS NOT 1 OR OLD.title_signature IS NOT NEW.title_signature)
BEGIN
    INSERT OR IGNORE INTO title_blocks_pending (item_id) VALUES (NEW.id);
END;

CREATE TRIGGER IF NOT EXISTS title_blocks_delete AFTER DELETE ON items
BEGIN
    DELETE FROM title_blocks_pending WHERE item_id = OLD.id;
END;

INSERT OR IGNORE INTO title_blocks_pending (item_id)
    SELECT id FROM items WHERE relevant = 1 AND title_signature IS NOT NULL;

-- Retention's prune of irrelevant items by last sighting (`relevant = 0 AND last_seen
-- < ?`) read every item (`SCAN items`); with this index it reads those it deletes.
CREATE INDEX IF NOT EXISTS items_irrelevant_by_last_seen ON items (last_seen) WHERE relevant = 0;
