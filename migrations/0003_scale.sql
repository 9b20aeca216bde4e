-- Cost that does not grow with history: every hot query gets an index it can use,
-- and a row keeps what the feeds, `explain` and `retag` need, no more.
--
-- A bare `WHERE relevant` cannot use an index on `relevant`; the queries now say
-- `relevant = 1`, which matches the partial index of relevant items below. The old
-- (relevant, sort_date, key) index is replaced by it and by one over every item.

DROP INDEX IF EXISTS items_by_date;
CREATE INDEX items_relevant_by_date ON items (sort_date DESC, key) WHERE relevant = 1;
-- `items --all`, and retention's `sort_date < cutoff`.
CREATE INDEX items_by_date ON items (sort_date DESC, key);

-- `sources`: each source's item and relevant counts from the index alone.
DROP INDEX IF EXISTS items_by_source;
CREATE INDEX items_by_source ON items (source_id, relevant);

-- `explain LINK`.
CREATE INDEX items_by_link ON items (link);

-- Items without a link have no canonical link: left out of its index. (Only relevant
-- items get a title signature from now on: only they are compared.)
DROP INDEX IF EXISTS items_by_canonical_url;
CREATE INDEX items_by_canonical_url ON items (canonical_url) WHERE canonical_url IS NOT NULL;

-- A long summary and HTML are stored together, compressed, in `body` (the program
-- packs them; see store/rows.rs), leaving `summary` empty and `content_html` NULL.
ALTER TABLE items ADD COLUMN body BLOB;

-- The decision keeps its verdict, threshold and topics; the evidence, recomputed by
-- the pure classifier when `explain` asks, was most of each row.
UPDATE items
SET decision = json_object(
        'threshold', json_extract(decision, '$.threshold'),
        'topics', json(COALESCE(json_extract(decision, '$.topics'), '[]')))
WHERE json_valid(decision) AND json_extract(decision, '$.evidence') IS NOT NULL;

