//! JSON values as the widget reads and writes them, without `serde` in the
//! wasm: the browser parses (`JSON.parse`) and the tree is copied out of
//! JavaScript values; messages and event details are built as JavaScript
//! objects directly. Natively (unit tests), `serde_json` does the parsing.
//!
//! Numbers are `f64`, as in JavaScript. Objects keep their keys' order;
//! equality ignores it.

mod js;

/// A JSON value.
#[derive(Debug, Clone)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, its members in order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An object of these members.
    ///
    /// ```
    /// use widget::json::Json;
    ///
    /// let v = Json::object([("count", Json::from(2u32))]);
    /// assert_eq!(v.to_text(), r#"{"count":2}"#);
    /// ```
    pub fn object<const N: usize>(members: [(&str, Json); N]) -> Json {
        Json::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    /// Parse JSON text (the browser's `JSON.parse` in the wasm). `None` when
    /// it is not JSON; the text is not echoed, since it may hold a token.
    pub fn parse(text: &str) -> Option<Json> {
        #[cfg(target_arch = "wasm32")]
        {
            js_sys::JSON::parse(text)
                .ok()
                .map(|v| Json::from_js(&v).unwrap_or(Json::Null))
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .map(Json::from)
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is an object with the member `key`.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an integer, if it is a whole number JavaScript holds
    /// exactly (within ±2⁵³).
    ///
    /// ```
    /// use widget::json::Json;
    ///
    /// assert_eq!(Json::Number(1_800_000_000.0).as_i64(), Some(1_800_000_000));
    /// assert_eq!(Json::Number(1.5).as_i64(), None);
    /// assert_eq!(Json::String("1".into()).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        match *self {
            Json::Number(n) if n.fract() == 0.0 && n.abs() <= EXACT => Some(n as i64),
            _ => None,
        }
    }

    /// What kind of value this is, for messages ("an object", "null").
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// Compact JSON text, as `JSON.stringify` writes it.
    ///
    /// ```
    /// use widget::json::Json;
    ///
    /// let v = Json::object([("a", Json::from("x\"y")), ("b", Json::Array(vec![Json::Null, Json::Bool(true)]))]);
    /// assert_eq!(v.to_text(), r#"{"a":"x\"y","b":[null,true]}"#);
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => write_number(*n, out),
            Json::String(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// Objects are equal when they have the same members, in any order.
impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        match (self, other) {
            (Json::Null, Json::Null) => true,
            (Json::Bool(a), Json::Bool(b)) => a == b,
            (Json::Number(a), Json::Number(b)) => a == b,
            (Json::String(a), Json::String(b)) => a == b,
            (Json::Array(a), Json::Array(b)) => a == b,
            (Json::Object(a), Json::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| other.get(k) == Some(v))
            }
            _ => false,
        }
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::String(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::String(s)
    }
}

impl From<u32> for Json {
    fn from(n: u32) -> Json {
        Json::Number(f64::from(n))
    }
}

/// Whole numbers as integers; others as JavaScript writes them. (Rust's
/// float formatting is left out of the wasm: it is large.)
fn write_number(n: f64, out: &mut String) {
    use std::fmt::Write as _;
    if let Some(i) = Json::Number(n).as_i64() {
        let _ = write!(out, "{i}");
    } else if !n.is_finite() {
        out.push_str("null");
    } else {
        #[cfg(target_arch = "wasm32")]
        out.push_str(&String::from(
            js_sys::Number::from(n)
                .to_string_with_radix(10)
                .unwrap_or_default(),
        ));
        #[cfg(not(target_arch = "wasm32"))]
        let _ = write!(out, "{n}");
    }
}

fn write_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(char::from(HEX[(c as usize) >> 4]));
                out.push(char::from(HEX[(c as usize) & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `serde_json`'s tree, for native callers and tests (`serde_json` is not
/// compiled into the wasm).
#[cfg(any(test, not(target_arch = "wasm32")))]
impl From<serde_json::Value> for Json {
    fn from(value: serde_json::Value) -> Json {
        use serde_json::Value;
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Json::String(s),
            Value::Array(items) => Json::Array(items.into_iter().map(Json::from).collect()),
            Value::Object(members) => Json::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, Json::from(v)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_what_serde_json_writes() {
        let value =
            json!({"s": "a\"b\\c\n\u{1}é", "n": [0, -3, 1_900_000_000, 2.5], "t": true, "z": null});
        let text = Json::from(value.clone()).to_text();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        assert_eq!(
            Json::from(json!("\u{1f}")).to_text(),
            serde_json::to_string("\u{1f}").unwrap()
        );
    }

    #[test]
    fn objects_compare_without_order() {
        let a = Json::object([("x", Json::from(1u32)), ("y", Json::Null)]);
        let b = Json::object([("y", Json::Null), ("x", Json::from(1u32))]);
        assert_eq!(a, b);
        assert_ne!(a, Json::object([("x", Json::from(1u32))]));
        assert_ne!(
            a,
            Json::object([("x", Json::from(1u32)), ("z", Json::Null)])
        );
    }

    #[test]
    fn parse_refuses_what_is_not_json() {
        assert_eq!(Json::parse("<html>"), None);
        assert_eq!(Json::parse("\"t\""), Some(Json::from("t")));
        assert_eq!(
            Json::parse(r#"{"exp": 1900000000}"#).and_then(|v| v.get("exp")?.as_i64()),
            Some(1_900_000_000)
        );
    }
}
