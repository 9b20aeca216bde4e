-- `title_head_counts` is kept by the writer, not by triggers on `title_blocks` (issue
-- 8: the writer's statement journal).
--
-- 0013's two triggers made every insert into `title_blocks` a statement that may
-- abort, so SQLite opened a statement journal for each (one a blocking row, 30-60 a
-- relevant title), and once the transaction had written the search table each
-- journal's savepoint made FTS5 flush its pending terms. `store::clusters` now counts
-- the rows it inserts and deletes itself (`count_head`), with the triggers' own
-- statements, in the same transaction: the counts are the same numbers. As 0014 did
-- for the inserts into `items`.
DROP TRIGGER IF EXISTS title_head_counts_insert;
DROP TRIGGER IF EXISTS title_head_counts_delete;
