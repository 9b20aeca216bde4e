-- The per-language feeds and pages walk only their language's relevant items (issue 8:
-- export and serving at 100,000 items).
--
-- `store::published::list_stories_in` walked every relevant item newest first
-- (`items_relevant_by_date`) and read each row to test its language, until it had a
-- feed's worth: a language with few items (Kazakh, in a farm of none) read the whole
-- relevant history for each of its feeds. The primary language code (its first two
-- letters, as the query asks it) leads this index, so the walk is the feed's length.
CREATE INDEX IF NOT EXISTS items_relevant_by_language
    ON items (lower(substr(lang, 1, 2)), sort_date DESC, key) WHERE relevant = 1;
