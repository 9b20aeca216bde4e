-- A stored title's deletion keys move from its own rows to its words' spellings
-- (issue 8: `title_blocks` was the largest share of the WAL, 1.06 frames an item).
--
-- Every relevant title had, beside its head pairs, a `title_blocks` row for each word's
-- head and four more for the deletion keys of each word of five letters or more (kind
-- 3, `Fuzzy`): most of its 50-130 rows, each a random leaf of the index that the
-- writer logs and the checkpointer copies back. The titles of a story share their
-- words, so those keys were written again for every copy. Now each spelling (a key
-- and the head of the word it comes from) is one row of `title_spellings`, written
-- when a word is first seen, and the titles are found from the head by their kind-3
-- rows of `key = head` (src/dedup/blocking.rs, `Kind::Head`), which stay: they are
-- what `title_head_counts` counts, so the counts do not move.
--
-- SQL can do it all: the spellings are the distinct kind-3 rows already there, and
-- the deletion-key rows go (`key != head`, which the count triggers of 0013 ignore).
-- A stale spelling, of a word whose titles have gone, only names a head whose lookup
-- finds nothing.
--
-- Written to run twice harmlessly (IF NOT EXISTS, OR IGNORE): the lead orders the
-- migrations of branches merged together.
CREATE TABLE IF NOT EXISTS title_spellings (
    key INTEGER NOT NULL,   -- dedup::blocking::head of a word, or one of its deletion keys
    head INTEGER NOT NULL,  -- dedup::blocking::head of that word
    PRIMARY KEY (key, head)
) WITHOUT ROWID;

INSERT OR IGNORE INTO title_spellings (key, head)
    SELECT DISTINCT key, head FROM title_blocks WHERE kind = 3;

DELETE FROM title_blocks WHERE kind = 3 AND key != head;
