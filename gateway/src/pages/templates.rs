//! The page templates (minijinja), compiled into the binary.
//!
//! Templates end in `.html`, so every value is HTML-escaped unless a
//! template says otherwise (none does). Boot data goes into
//! `<script type="application/json">` through `tojson`, which escapes `<`,
//! `>`, `&` and `'`, so no value can close the script element. Undefined
//! variables are errors, so a typo fails the tests instead of rendering
//! an empty string.

use std::sync::LazyLock;

use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};

/// The product name shown in headers and titles.
pub(super) const PRODUCT: &str = "TZ-Chat";

const TEMPLATES: [(&str, &str); 4] = [
    (
        "base.html",
        include_str!("../../assets/templates/base.html"),
    ),
    (
        "chat.html",
        include_str!("../../assets/templates/chat.html"),
    ),
    (
        "error.html",
        include_str!("../../assets/templates/error.html"),
    ),
    (
        "intro.html",
        include_str!("../../assets/templates/intro.html"),
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

/// Render template `name` with `context`.
pub(super) fn render(name: &str, context: Value) -> Result<String, minijinja::Error> {
    let env = ENV
        .as_ref()
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
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
