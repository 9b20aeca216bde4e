-- Operators' decisions on single items, which win over the classifier's; and when a
-- failing source began to fail.
--
-- Keyed by the item's stable key rather than its row id, so that a correction is the
-- operator's word about a story, whatever happens to the row. The item's own
-- `relevant`, `decision` and `item_topics` hold the corrected decision, so that every
-- listing and published feed shows it without a join; this table is what lets
-- ingestion and `retag` apply it again, `explain` say who decided, and `eval
-- --corrections` compare the classifier with the operator.

CREATE TABLE corrections (
    item_key   TEXT PRIMARY KEY,
    relevant   INTEGER NOT NULL,
    -- JSON array of topic ids; empty: the classifier's topics (when it found any)
    topics     TEXT NOT NULL DEFAULT '[]',
    marked_at  TEXT NOT NULL
);

-- When a source's current run of failures began (NULL while it is not failing), for
-- "failing for 2 days" and `check`'s warning. Kept by a trigger, so that every write
-- of the fetch state keeps it right without knowing of it.
ALTER TABLE sources ADD COLUMN failing_since TEXT;
UPDATE sources SET failing_since = last_attempt WHERE consecutive_failures > 0;

CREATE TRIGGER sources_failing_since AFTER UPDATE OF consecutive_failures ON sources
BEGIN
    UPDATE sources SET failing_since = CASE
        WHEN NEW.consecutive_failures = 0 THEN NULL
        WHEN OLD.consecutive_failures = 0 OR OLD.failing_since IS NULL THEN NEW.last_attempt
        ELSE OLD.failing_since
    END
    WHERE id = NEW.id;
END;
