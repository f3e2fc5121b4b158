//! Runnable examples of the SDK (placeholder until the SDK issue lands).
