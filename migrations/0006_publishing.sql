-- What the published site needs: full-text search over the published items, when each
-- published file's bytes were first rendered, and dates that cannot sit in the future.

-- Search: an FTS5 table with its own copy of each relevant item's title and summary
-- (rowid = items.id), kept by the triggers below, so that it does not depend on how
-- `items` is laid out. Case and diacritics are folded in every script.
CREATE VIRTUAL TABLE item_search USING fts5 (
    title,
    summary,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO item_search (rowid, title, summary)
    SELECT id, title, summary FROM items WHERE relevant;

CREATE TRIGGER item_search_insert AFTER INSERT ON items WHEN NEW.relevant
BEGIN
    INSERT INTO item_search (rowid, title, summary) VALUES (NEW.id, NEW.title, NEW.summary);
END;

CREATE TRIGGER item_search_update AFTER UPDATE OF title, summary, relevant ON items
BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
    INSERT INTO item_search (rowid, title, summary)
        SELECT NEW.id, NEW.title, NEW.summary WHERE NEW.relevant;
END;

CREATE TRIGGER item_search_delete AFTER DELETE ON items
BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
END;

-- Per published file: the ETag of its current bytes and when they were first
-- rendered, the `Last-Modified` of every response, kept across restarts.
CREATE TABLE published_files (
    path  TEXT PRIMARY KEY,
    etag  TEXT NOT NULL,
    since TEXT NOT NULL
);

-- A date more than an hour in the future, and after the item was first seen, is a
-- feed's clock or a typo (an item dated 2033 would top every feed until then): the
-- listing and published date, `sort_date`, falls back to the first-seen time.
-- `published` keeps the original.
UPDATE items SET sort_date = first_seen
    WHERE sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 hour')
      AND sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', first_seen, '+1 hour');

CREATE TRIGGER items_future_date_insert AFTER INSERT ON items
    WHEN NEW.sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 hour')
     AND NEW.sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', NEW.first_seen, '+1 hour')
BEGIN
    UPDATE items SET sort_date = NEW.first_seen WHERE id = NEW.id;
END;

CREATE TRIGGER items_future_date_update AFTER UPDATE OF sort_date ON items
    WHEN NEW.sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 hour')
     AND NEW.sort_date > strftime('%Y-%m-%dT%H:%M:%SZ', NEW.first_seen, '+1 hour')
BEGIN
    UPDATE items SET sort_date = NEW.first_seen WHERE id = NEW.id;
END;
