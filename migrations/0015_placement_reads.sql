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

-- The topics of each story, kept by triggers as its members' topics and relevance
-- change, so that the writer asks one story's row instead of reading every member.
--
-- After each new copy the writer reports which topic feeds changed: the topics of every
-- relevant member of the copy's cluster (`clusters::cluster_topics`). A wire story of
-- this farm has up to 470 copies, so that was 470 lookups of `item_topics` spread over
-- its index, once per story per batch (130 M instructions of 2,270 M for 40 new feeds
-- into 100,000 items, and pages of `item_topics` read back into the writer's cache).
--
-- `members` is how many relevant items of the story (`COALESCE(duplicate_of, id)` is
-- `root`) have the topic; the triggers keep it equal to that count through every change
-- of `item_topics` rows, of an item's relevance or cluster, and an item's deletion
-- (BEFORE it: its topics are still there; their cascade then finds no item). A row
-- goes when its count reaches 0.
CREATE TABLE IF NOT EXISTS cluster_topic_counts (
    root INTEGER NOT NULL,
    topic TEXT NOT NULL,
    members INTEGER NOT NULL,
    PRIMARY KEY (root, topic)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS cluster_topic_counts_topic_insert AFTER INSERT ON item_topics
WHEN (SELECT relevant FROM items WHERE id = NEW.item_id) = 1
BEGIN
    INSERT INTO cluster_topic_counts (root, topic, members)
        SELECT COALESCE(duplicate_of, id), NEW.topic, 1 FROM items WHERE id = NEW.item_id
        ON CONFLICT (root, topic) DO UPDATE SET members = members + 1;
END;

CREATE TRIGGER IF NOT EXISTS cluster_topic_counts_topic_delete AFTER DELETE ON item_topics
WHEN (SELECT relevant FROM items WHERE id = OLD.item_id) = 1
BEGIN
    UPDATE cluster_topic_counts SET members = members - 1
        WHERE root = (SELECT COALESCE(duplicate_of, id) FROM items WHERE id = OLD.item_id)
          AND topic = OLD.topic;
    DELETE FROM cluster_topic_counts
        WHERE root = (SELECT COALESCE(duplicate_of, id) FROM items WHERE id = OLD.item_id)
          AND topic = OLD.topic AND members <= 0;
END;

CREATE TRIGGER IF NOT EXISTS cluster_topic_counts_item_update
AFTER UPDATE OF relevant, duplicate_of ON items
WHEN OLD.relevant IS NOT NEW.relevant OR OLD.duplicate_of IS NOT NEW.duplicate_of
BEGIN
    UPDATE cluster_topic_counts SET members = members - 1
        WHERE OLD.relevant = 1 AND root = COALESCE(OLD.duplicate_of, OLD.id)
          AND topic IN (SELECT topic FROM item_topics WHERE item_id = OLD.id);
    DELETE FROM cluster_topic_counts
        WHERE OLD.relevant = 1 AND root = COALESCE(OLD.duplicate_of, OLD.id) AND members <= 0;
    INSERT INTO cluster_topic_counts (root, topic, members)
        SELECT COALESCE(NEW.duplicate_of, NEW.id), topic, 1 FROM item_topics
        WHERE NEW.relevant = 1 AND item_id = NEW.id
        ON CONFLICT (root, topic) DO UPDATE SET members = members + 1;
END;

CREATE TRIGGER IF NOT EXISTS cluster_topic_counts_item_delete BEFORE DELETE ON items
WHEN OLD.relevant = 1
BEGIN
    UPDATE cluster_topic_counts SET members = members - 1
        WHERE root = COALESCE(OLD.duplicate_of, OLD.id)
          AND topic IN (SELECT topic FROM item_topics WHERE item_id = OLD.id);
    DELETE FROM cluster_topic_counts
        WHERE root = COALESCE(OLD.duplicate_of, OLD.id) AND members <= 0;
END;

DELETE FROM cluster_topic_counts;
INSERT INTO cluster_topic_counts (root, topic, members)
    SELECT COALESCE(i.duplicate_of, i.id), t.topic, count(*)
    FROM item_topics t JOIN items i ON i.id = t.item_id
    WHERE i.relevant = 1
    GROUP BY 1, 2;
