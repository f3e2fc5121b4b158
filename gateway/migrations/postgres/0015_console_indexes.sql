-- Messages that did not complete, for the console's status filter. They are
-- few, so the index is small and a complete message never enters it.
CREATE INDEX messages_not_complete ON messages (conversation_id)
    WHERE status <> 'complete';
