//! Drop-in chat widget (placeholder until the widget issue lands).
