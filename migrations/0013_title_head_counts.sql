-- How many indexed titles hold a word of each head, kept beside the blocking keys
-- (issue 8: the writer's cost that grows with history).
--
-- `clusters::rarest_first` ranks a new relevant title's words by that count, capped at
-- 64, to pick the pairs it is indexed under. It counted the `title_blocks` rows of
-- each word's own head (kind 3 = `Fuzzy`, `key = head`) on every placement: up to 64
-- index entries a word, spread over the index, read for each new relevant item. Now
-- one row a head, kept by the triggers below as the rows come and go, and read once
-- a word. The count is the same number (the rows themselves, stale ones included), so
-- the words are ranked as before and the same pairs are picked.
--
-- Written to run twice harmlessly (IF NOT EXISTS, and a recount of what is there): the
-- lead orders the migrations of branches merged together.
CREATE TABLE IF NOT EXISTS title_head_counts (
    head INTEGER PRIMARY KEY,   -- dedup::blocking::head of a word
    titles INTEGER NOT NULL     -- the `title_blocks` rows (3, head, head, item)
);

-- `INSERT OR IGNORE` of a row already there fires no insert trigger: a title counts
-- once per head, as its rows do.
CREATE TRIGGER IF NOT EXISTS title_head_counts_insert AFTER INSERT ON title_blocks
WHEN NEW.kind = 3 AND NEW.key = NEW.head
BEGIN
    INSERT INTO title_head_counts (head, titles) VALUES (NEW.head, 1)
        ON CONFLICT (head) DO UPDATE SET titles = titles + 1;
END;

CREATE TRIGGER IF NOT EXISTS title_head_counts_delete AFTER DELETE ON title_blocks
WHEN OLD.kind = 3 AND OLD.key = OLD.head
BEGIN
    UPDATE title_head_counts SET titles = titles - 1 WHERE head = OLD.head;
END;

DELETE FROM title_head_counts;
INSERT INTO title_head_counts (head, titles)
    SELECT head, count(*) FROM title_blocks WHERE kind = 3 AND key = head GROUP BY head;
