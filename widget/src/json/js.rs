//! Copying [`Json`] out of and into JavaScript values.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::Json;

impl Json {
    /// A JavaScript value as JSON, the way `JSON.stringify` sees it:
    /// `None` for `undefined`, functions and symbols; such members of an
    /// object are left out, such items of an array become `null`.
    pub fn from_js(value: &JsValue) -> Option<Json> {
        if let Some(s) = value.as_string() {
            return Some(Json::String(s));
        }
        if let Some(n) = value.as_f64() {
            return Some(if n.is_finite() {
                Json::Number(n)
            } else {
                Json::Null
            });
        }
        if let Some(b) = value.as_bool() {
            return Some(Json::Bool(b));
        }
        if value.is_null() {
            return Some(Json::Null);
        }
        if Array::is_array(value) {
            let items = value.unchecked_ref::<Array>();
            return Some(Json::Array(
                items
                    .iter()
                    .map(|item| Json::from_js(&item).unwrap_or(Json::Null))
                    .collect(),
            ));
        }
        if value.is_object() {
            let members = Object::keys(value.unchecked_ref::<Object>())
                .iter()
                .filter_map(|key| {
                    let member = Reflect::get(value, &key).ok()?;
                    Some((key.as_string()?, Json::from_js(&member)?))
                })
                .collect();
            return Some(Json::Object(members));
        }
        None
    }

    /// The value as a JavaScript value (plain objects and arrays).
    pub fn to_js(&self) -> JsValue {
        match self {
            Json::Null => JsValue::NULL,
            Json::Bool(b) => JsValue::from_bool(*b),
            Json::Number(n) => JsValue::from_f64(*n),
            Json::String(s) => JsValue::from_str(s),
            Json::Array(items) => items.iter().map(Json::to_js).collect::<Array>().into(),
            Json::Object(members) => {
                let object = Object::new();
                for (key, value) in members {
                    // Setting a data property on a fresh plain object cannot fail.
                    let _ = Reflect::set(&object, &JsValue::from_str(key), &value.to_js());
                }
                object.into()
            }
        }
    }
}
