-- Title signatures changed form (t1: word-pair shingles → t2: comparable words aligned
-- word by word). Old ones are cleared here; `schema::migrate` computes the new ones in
-- the same transaction (SQL cannot: Unicode folding, transliteration).
UPDATE items SET title_signature = NULL
WHERE title_signature IS NOT NULL AND title_signature NOT LIKE 't2:%';
