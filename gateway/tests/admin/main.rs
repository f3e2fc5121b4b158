//! `/v1/admin`: systems and agents created, changed and used at runtime,
//! against a real gateway on a SQLite file and fakes speaking the vendors'
//! wire formats. (Several replicas on PostgreSQL: `tests/replicas`.)
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod agents;
mod doors;
mod models;
mod probe;
mod support;
mod systems;
