-- The columns a dedup placement compares, for the relevant items only, in an index of
-- their own (issue 8: the writer's cost that grows with history).
--
-- `clusters::find_copy` reads each candidate that the blocking keys propose (its root,
-- source, language, date and title signature) until one cannot be beaten. The farm's
-- relevant titles are a few templates with suffixes, so a story's candidates are
-- hundreds of earlier copies spread over the whole `items` table: one table page of
-- about two rows each, read from the OS for nearly every candidate (52,208 of the
-- writer's 177,000 page reads of 400 new feeds into 100,000 items, BENCHMARKS.md,
-- branch history6), and each read evicts an index page from the writer's 4 MiB cache.
-- The same columns in a partial index of the relevant items are about 110 bytes an
-- item (3,766 relevant items in 102 pages, which stay in the cache) and ordered by id,
-- so new relevant items append to it. `relevant` is in it too: without it SQLite's
-- planner (3.40) does not count the index as covering, and reads the row anyway.
--
-- Written to run twice harmlessly (IF NOT EXISTS): the lead orders the migrations of
-- branches merged together.
CREATE INDEX IF NOT EXISTS items_relevant_candidates
    ON items (id, sort_date, duplicate_of, source_id, lang, title_signature, relevant)
    WHERE relevant = 1;
