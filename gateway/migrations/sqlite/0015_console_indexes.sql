-- Indexes for the console, now that operators browse every conversation.
--
-- Newest first: the console's list and its export page through all
-- conversations by creation time. Without this index each page scanned and
-- sorted the whole table (0.3-0.4 s a page at 100,000 conversations, a
-- full export of them over three minutes). Migration 0002 dropped it when
-- only a rare search used it; a new conversation pays one more B-tree
-- insert, an updated one nothing (`created_at` never changes). Ascending,
-- though the console reads it newest first (SQLite walks it backwards):
-- new rows then land at its right edge, where SQLite appends to a full page
-- instead of splitting one in half, as it would at the left edge of a
-- descending index.
CREATE INDEX conversations_by_created ON conversations (created_at, id);

-- Messages that did not complete, for the console's status filter. They are
-- few, so the index is small and a complete message never enters it.
CREATE INDEX messages_not_complete ON messages (conversation_id)
    WHERE status <> 'complete';
