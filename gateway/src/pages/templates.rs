//! The page templates (minijinja), compiled into the binary.
//!
//! Every page template extends `base.html` and gets, besides its own
//! values, what [`render`] adds for all pages: `lang`, `product`, `assets`
//! (module `assets`) and `languages` (the language menu).
//!
//! Templates end in `.html`, so every value is HTML-escaped unless a
//! template says otherwise: only the console transcript's assistant HTML
//! (from `markdown::render`, sanitised, with `<mark>` added in its text)
//! and the console's chart (SVG built from numbers and escaped text). Boot data goes into
//! `<script type="application/json">` through `tojson`, which escapes `<`,
//! `>`, `&` and `'`, so no value can close the script element. Undefined
//! variables are errors, so a typo fails the tests instead of rendering
//! an empty string.

use std::sync::LazyLock;

use minijinja::value::Serde;
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value, context};
use sdk::Lang;
use serde::Serialize;

use super::assets;

/// The product name shown in headers and titles.
const PRODUCT: &str = "TZ-Chat";

const TEMPLATES: [(&str, &str); 24] = [
    (
        "admin.html",
        include_str!("../../assets/templates/admin.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../../assets/templates/admin_audit.html"),
    ),
    (
        "admin_home.html",
        include_str!("../../assets/templates/admin_home.html"),
    ),
    (
        "admin_keys.html",
        include_str!("../../assets/templates/admin_keys.html"),
    ),
    (
        "admin_login.html",
        include_str!("../../assets/templates/admin_login.html"),
    ),
    (
        "admin_message.html",
        include_str!("../../assets/templates/admin_message.html"),
    ),
    (
        "admin_operators.html",
        include_str!("../../assets/templates/admin_operators.html"),
    ),
    (
        "admin_agent.html",
        include_str!("../../assets/templates/admin_agent.html"),
    ),
    (
        "admin_agent_fields.html",
        include_str!("../../assets/templates/admin_agent_fields.html"),
    ),
    (
        "admin_agents.html",
        include_str!("../../assets/templates/admin_agents.html"),
    ),
    (
        "admin_fields.html",
        include_str!("../../assets/templates/admin_fields.html"),
    ),
    (
        "admin_system.html",
        include_str!("../../assets/templates/admin_system.html"),
    ),
    (
        "admin_systems.html",
        include_str!("../../assets/templates/admin_systems.html"),
    ),
    (
        "base.html",
        include_str!("../../assets/templates/base.html"),
    ),
    (
        "chat.html",
        include_str!("../../assets/templates/chat.html"),
    ),
    (
        "console_analytics.html",
        include_str!("../../assets/templates/console_analytics.html"),
    ),
    (
        "console_status.html",
        include_str!("../../assets/templates/console_status.html"),
    ),
    (
        "console_filters.html",
        include_str!("../../assets/templates/console_filters.html"),
    ),
    (
        "console_list.html",
        include_str!("../../assets/templates/console_list.html"),
    ),
    (
        "console_nav.html",
        include_str!("../../assets/templates/console_nav.html"),
    ),
    (
        "console_transcript.html",
        include_str!("../../assets/templates/console_transcript.html"),
    ),
    (
        "error.html",
        include_str!("../../assets/templates/error.html"),
    ),
    (
        "docs.html",
        include_str!("../../assets/templates/docs.html"),
    ),
    (
        "front.html",
        include_str!("../../assets/templates/front.html"),
    ),
];

static ENV: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
});

/// One entry of the language menu.
#[derive(Debug, Serialize)]
struct LanguageOption {
    code: Lang,
    name: &'static str,
}

/// Render page template `name` in `lang` with the page's values `page`
/// and those every page gets.
pub(super) fn render(name: &str, lang: Lang, page: Value) -> Result<String, minijinja::Error> {
    let env = ENV
        .as_ref()
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let languages: Vec<LanguageOption> = Lang::ALL
        .into_iter()
        .map(|code| LanguageOption {
            code,
            name: code.endonym(),
        })
        .collect();
    let context = context! {
        lang => lang.as_str(),
        product => PRODUCT,
        assets => Serde(assets::paths()),
        languages => Serde(languages),
        ..page
    };
    env.get_template(name)?.render(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn templates_compile() {
        assert!(ENV.is_ok(), "{:?}", ENV.as_ref().err());
    }

    #[test]
    fn values_are_escaped_and_json_cannot_close_the_script() {
        let env = ENV.as_ref().unwrap();
        let mut env = env.clone();
        env.add_template(
            "probe.html",
            r#"<p title="{{ v }}">{{ v }}</p><script type="application/json">{{ data|tojson }}</script>"#,
        )
        .unwrap();
        let evil = r#"</script><script>alert("x")</script>' & "#;
        let out = env
            .get_template("probe.html")
            .unwrap()
            .render(context! { v => evil, data => context! { s => evil } })
            .unwrap();
        assert!(!out.contains("<script>alert"), "{out}");
        assert_eq!(out.matches("</script>").count(), 1, "{out}");
        assert!(out.contains("&lt;&#x2f;script&gt;"), "{out}");
        assert!(out.contains(r"\u003c/script\u003e"), "{out}");
    }
}
