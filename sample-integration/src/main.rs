//! Reference client site (placeholder until the widget issue lands).
fn main() {}
