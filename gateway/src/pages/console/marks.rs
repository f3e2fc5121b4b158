//! Where search words are marked: runs of plain text, and sanitised HTML
//! whose text (never a tag or an entity) gets `<mark>` elements.

use serde::Serialize;

use crate::store::console::SearchWords;

/// A run of text, highlighted or not.
#[derive(Debug, Serialize)]
pub(super) struct Part {
    pub(super) text: String,
    pub(super) mark: bool,
}

pub(super) fn parts(text: &str, words: &SearchWords) -> Vec<Part> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in words.find_in(text) {
        if r.start > at {
            out.push(Part {
                text: text[at..r.start].to_owned(),
                mark: false,
            });
        }
        out.push(Part {
            text: text[r.clone()].to_owned(),
            mark: true,
        });
        at = r.end;
    }
    if at < text.len() || out.is_empty() {
        out.push(Part {
            text: text[at..].to_owned(),
            mark: false,
        });
    }
    out
}

/// `html` (sanitised) with the words marked in its text, never inside a
/// tag or an entity: only `<mark>` elements are added.
pub(super) fn mark_html(html: &str, words: &SearchWords) -> String {
    if words.is_empty() {
        return html.to_owned();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while !rest.is_empty() {
        let (text, tail) = match rest.find('<') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        // Words are matched in text runs without entities.
        for (i, run) in text.split('&').enumerate() {
            let (entity, plain) = if i == 0 {
                ("", run)
            } else {
                match run.find(';') {
                    Some(j) => run.split_at(j + 1),
                    None => ("", run),
                }
            };
            if i > 0 {
                out.push('&');
            }
            out.push_str(entity);
            for p in parts(plain, words) {
                if p.mark {
                    out.push_str("<mark>");
                    out.push_str(&p.text);
                    out.push_str("</mark>");
                } else {
                    out.push_str(&p.text);
                }
            }
        }
        match tail.find('>') {
            Some(end) => {
                out.push_str(&tail[..=end]);
                rest = &tail[end + 1..];
            }
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_go_into_text_only() {
        let words = SearchWords::parse("amp 서울");
        let html = "<p class=\"amp\">서울 &amp; amp</p>";
        assert_eq!(
            mark_html(html, &words),
            "<p class=\"amp\"><mark>서울</mark> &amp; <mark>amp</mark></p>"
        );
        assert_eq!(mark_html(html, &SearchWords::default()), html);
    }

    #[test]
    fn text_runs_cover_the_whole_text() {
        let words = SearchWords::parse("b");
        let runs = parts("abcb", &words);
        let joined: String = runs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, "abcb");
        assert_eq!(runs.iter().filter(|p| p.mark).count(), 2);
    }
}
