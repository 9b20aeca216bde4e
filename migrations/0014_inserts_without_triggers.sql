-- An insert into `items` fires no trigger (issue 8: the writer's cost per item).
--
-- Three triggers ran after every insert into `items`: the search index's
-- (`item_search_insert`, 0006), the blocking queue's (`title_blocks_insert`, 0009) and
-- the future-date correction's (`items_future_date_insert`, 0011). Their bodies ran
-- for few rows (relevant items, far-future dates), but SQLite compiles every trigger
-- into every insert, and a statement with triggers that may abort (the search
-- trigger's insert into an FTS5 table always may; so does the check of the
-- `duplicate_of` foreign key once a statement has triggers) opens a statement
-- journal: each page the insert changes was first copied to memory, about ten pages
-- of 4 KiB an item, a fifth of the writer's instructions (BENCHMARKS.md, branch
-- writer6).
--
-- The one insert into `items` (`store::items::insert_item`) now does what they did,
-- in the same statement order and transaction: it writes the sort date already
-- corrected, and for a relevant item inserts its search row and queues its title.
-- The triggers on UPDATE and DELETE stay: many statements update items.
DROP TRIGGER IF EXISTS item_search_insert;
DROP TRIGGER IF EXISTS title_blocks_insert;
DROP TRIGGER IF EXISTS items_future_date_insert;
