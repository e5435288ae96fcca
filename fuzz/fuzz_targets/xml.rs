//! APIv2 XML: `Transformer::to_array` on outside text, the two round trips, and the APIv2
//! notification helpers.
//!
//! Properties:
//! - `to_array`, `verify_notification` and `decrypt_refund_req_info` never panic (nor overflow
//!   the stack, however deep the nesting);
//! - `to_array` gives an object, and for any object `v` it gives, `to_array(to_xml(v))` is `v`
//!   with arrays as `to_xml` writes them (`<item>` elements: see `expected`);
//! - when the input is a JSON object, `to_xml` either refuses it or `to_array` reads back what was
//!   written (numbers and `true` as text, `false`/`null` as empty text, arrays as `<item>`s).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use wechatpay::v2::{self, Transformer};

const APIV2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// XML 1.0's characters, as `to_xml` keeps them.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// What `to_array(to_xml(v))` must give for a JSON value `v`: an array becomes its `<item>`
/// elements (one item: an object with `item`; several: `item` holding the list; none: empty
/// text), scalars become their text.
fn expected(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.is_empty() => Value::String(String::new()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), expected(v))).collect()),
        Value::Array(items) => match items.len() {
            0 => Value::String(String::new()),
            1 => Value::Object(Map::from_iter([("item".to_owned(), expected(&items[0]))])),
            _ => Value::Object(Map::from_iter([(
                "item".to_owned(),
                Value::Array(items.iter().map(expected).collect()),
            )])),
        },
        Value::String(s) => Value::String(s.chars().filter(|&c| allowed(c)).collect()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(true) => Value::String("1".into()),
        Value::Bool(false) | Value::Null => Value::String(String::new()),
    }
}

/// The top level stays an object even when empty.
fn expected_root(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), expected(v))).collect()),
        other => expected(other),
    }
}

fn round_trip(value: &Value, origin: &str) {
    let Ok(xml) = Transformer::to_xml(value) else {
        return; // a key that is no element name, or too deep: refused, which is fine
    };
    match Transformer::to_array(&xml) {
        Ok(back) => assert_eq!(
            back,
            expected_root(value),
            "to_array(to_xml(v)) != v for v = {value} (from {origin:?}); xml = {xml:?}"
        ),
        Err(e) => panic!("to_array refused what to_xml wrote: {e}\nv = {value} (from {origin:?})\nxml = {xml:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    match Transformer::to_array(&text) {
        Ok(value) => {
            assert!(value.is_object(), "to_array gave a non-object: {value}");
            round_trip(&value, &text);
        }
        Err(e) => {
            let _ = (e.to_string(), format!("{e:?}"));
        }
    }
    if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(&text) {
        round_trip(&value, &text);
    }

    if let Ok(params) = v2::verify_notification(&text, APIV2_KEY) {
        assert!(
            params.as_object().is_some_and(|m| v2::verify_params(m, APIV2_KEY)),
            "verify_notification accepted params that do not verify: {params}"
        );
    }
    let _ = v2::decrypt_refund_req_info(text.trim(), APIV2_KEY);
});
