//! Markdown to safe HTML, on the server.
//!
//! Answers come from a model, and a model can be talked into writing
//! `<script>`, `onerror=` or `javascript:` links. Rendering happens here, with
//! pulldown-cmark, and the result goes through ammonia's allow-list sanitiser,
//! so the chat page never needs a markdown library or a CDN script, and no
//! markup from an answer can run.
//!
//! Beyond ammonia's defaults: links open in a new tab with
//! `rel="noopener noreferrer nofollow"`, and images are dropped — an image
//! URL in an answer is a classic way for injected instructions to leak
//! conversation text to another server.

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.rm_tags(["img"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank");
    b
});

/// Render markdown to sanitised HTML.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, options));
    SANITIZER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn formatting_survives() {
        let html = render(
            "**bold** and `code`\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n",
        );
        for tag in [
            "<strong>bold</strong>",
            "<code>code</code>",
            "<li>a</li>",
            "<table>",
            "<td>1</td>",
            "<pre><code",
        ] {
            assert!(html.contains(tag), "{tag} missing in {html}");
        }
    }

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))\n\n<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>\n\n<iframe src=\"https://evil.example\"></iframe>\n\n<svg onload=alert(1)></svg>",
        );
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "onclick",
            "<iframe",
            "onload",
            "<img",
            "<svg",
        ] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
        assert!(html.contains("href=\"https://ok.example\""), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
        assert!(html.contains("target=\"_blank\""), "{html}");
    }
}
