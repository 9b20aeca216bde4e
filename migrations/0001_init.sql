-- Sources and their fetch state; every item fetched (relevant or not) with the
-- classifier's decision, so that `retag` can re-decide without fetching again.

CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    url                  TEXT NOT NULL,
    name                 TEXT NOT NULL,
    -- validators of the last successful fetch
    etag                 TEXT,
    last_modified        TEXT,
    body_hash            TEXT,
    -- 'pending' until the first attempt, then 'ok', 'not_modified' or 'error'
    status               TEXT NOT NULL DEFAULT 'pending',
    error_kind           TEXT,
    error                TEXT,
    last_attempt         TEXT,
    last_success         TEXT,
    next_attempt         TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    -- where a permanent redirect leads: the URL to put in feeds.toml
    suggested_url        TEXT,
    last_new_items       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE items (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    source_id     TEXT NOT NULL,
    guid          TEXT,
    link          TEXT,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    content_html  TEXT,
    -- RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ`, so that text order is time order
    published     TEXT,
    updated       TEXT,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    -- published, else first seen: the order of every listing
    sort_date     TEXT NOT NULL,
    authors       TEXT NOT NULL DEFAULT '[]',
    categories    TEXT NOT NULL DEFAULT '[]',
    lang          TEXT,
    content_hash  TEXT NOT NULL,
    relevant      INTEGER NOT NULL,
    score         REAL NOT NULL,
    -- the classifier's Decision as JSON: evidence, score, threshold, topics
    decision      TEXT NOT NULL
);

CREATE INDEX items_by_source ON items (source_id);
CREATE INDEX items_by_date ON items (relevant, sort_date DESC, key);

CREATE TABLE item_topics (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    topic   TEXT NOT NULL,
    PRIMARY KEY (item_id, topic)
);

CREATE INDEX item_topics_by_topic ON item_topics (topic, item_id);
