-- The named agent a conversation started with (NULL: the system's own
-- upstream); later messages go to the same agent.
ALTER TABLE conversations ADD COLUMN agent TEXT;
