-- An irrelevant item's HTML is stored as the feed sent it, not sanitized (nineteen
-- items in twenty are never published, and sanitizing was most of a parse). This
-- column says which: NULL for sanitized HTML (every row stored before), else the base
-- its relative URLs resolve against ('' for none). The store sanitizes the HTML when
-- an item turns relevant; readers get it through `ItemHtml`, which sanitizes what is
-- raw.
ALTER TABLE items ADD COLUMN raw_html_base TEXT;
