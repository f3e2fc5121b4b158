-- Every new conversation paid for this index on its commit; only the
-- operator search by date used it, and scanning for that rare query is
-- cheaper overall than maintaining it on the hot path.
DROP INDEX conversations_by_created;
