//! The SQL both stores build for the console: a `WHERE` clause from a
//! [`ConsoleFilter`], spelled in each store's [`Dialect`].

use time::OffsetDateTime;

use super::{ConsoleFilter, SearchWords};

/// A value bound to a console query, whichever store runs it.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Time(OffsetDateTime),
}

/// How a store spells what the console's SQL needs.
pub(crate) trait Dialect {
    /// The placeholder of the `n`th argument (from 1).
    fn placeholder(n: usize) -> String;

    /// ` AND` the message row `m` holds every word of `words`; pushes the
    /// arguments.
    fn holds_words(m: &str, words: &SearchWords, sql: &mut Where);

    /// ` AND` the conversation row `c` has a message holding every word of
    /// `words`. By default a correlated `EXISTS`, which stops at the first
    /// page's worth of matches; a store whose index answers a word for the
    /// whole table at once overrides it.
    fn has_message_with(words: &SearchWords, sql: &mut Where) {
        sql.text
            .push_str(" AND EXISTS (SELECT 1 FROM messages h WHERE h.conversation_id = c.id");
        Self::holds_words("h", words, sql);
        sql.text.push(')');
    }
}

/// A `WHERE` clause under construction and its arguments.
#[derive(Debug, Default)]
pub(crate) struct Where {
    pub(crate) text: String,
    pub(crate) args: Vec<Arg>,
}

impl Where {
    /// Add `arg` and return its placeholder.
    pub(crate) fn arg<D: Dialect>(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        D::placeholder(self.args.len())
    }

    /// The conditions of `filter` on the conversation row `c`, each starting
    /// with ` AND `.
    pub(crate) fn filter<D: Dialect>(&mut self, filter: &ConsoleFilter) {
        if let Some(systems) = &filter.systems {
            if systems.is_empty() {
                self.text.push_str(" AND 1 = 0");
            } else {
                let list: Vec<String> = systems
                    .iter()
                    .map(|s| self.arg::<D>(Arg::Text(s.clone())))
                    .collect();
                self.text
                    .push_str(&format!(" AND c.system_id IN ({})", list.join(", ")));
            }
        }
        for (column, value) in [
            ("c.system_id", &filter.system_id),
            ("c.agent", &filter.agent),
            ("c.user_id", &filter.user_id),
        ] {
            if let Some(v) = value {
                let p = self.arg::<D>(Arg::Text(v.clone()));
                self.text.push_str(&format!(" AND {column} = {p}"));
            }
        }
        if let Some(from) = filter.from {
            let p = self.arg::<D>(Arg::Time(from));
            self.text.push_str(&format!(" AND c.created_at >= {p}"));
        }
        if let Some(to) = filter.to {
            let p = self.arg::<D>(Arg::Time(to));
            self.text.push_str(&format!(" AND c.created_at < {p}"));
        }
        // Not correlated: the set of conversations is found once per query.
        // SQLite runs a correlated `EXISTS` once per conversation it counts
        // (seconds on 100,000 conversations); both stores plan `IN` well.
        if let Some(status) = filter.status {
            // Written out, with the condition of the partial index of
            // messages that did not complete (migration 0015): the planners
            // use that index only when they can see the query implies it.
            // The value is one of our own constants, never the client's.
            self.text.push_str(&format!(
                " AND c.id IN (SELECT s.conversation_id FROM messages s \
                 WHERE s.status = '{}' AND s.status <> 'complete')",
                status.as_str()
            ));
        }
        if let Some(feedback) = filter.feedback {
            // Feedback is rare: start from it.
            self.text.push_str(&format!(
                " AND c.id IN (SELECT fm.conversation_id FROM message_feedback fb \
                 JOIN messages fm ON fm.id = fb.message_id WHERE 1 = 1{})",
                feedback.condition()
            ));
        }
        if !filter.words.is_empty() {
            D::has_message_with(&filter.words, self);
        }
    }
}

/// `word` as a `LIKE` pattern matching it anywhere, with `\` as the escape.
pub(crate) fn like_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for ch in word.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
