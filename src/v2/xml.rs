//! wechatpay-php's `Transformer`: JSON-shaped maps to APIv2 XML and back, refusing DOCTYPE
//! (XXE, entity expansion) and anything malformed.
//!
//! Hand-written over `quick-xml`'s reader rather than a serde XML mapper: the flat APIv2 shape
//! needs no schema, and the refusal of DOCTYPE must happen before any other event is trusted.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

use crate::error::{ConfigError, DecodeError, Result};

/// APIv2 XML ⇄ `serde_json::Value`.
///
/// ```
/// use serde_json::json;
/// use wechatpay::v2::Transformer;
///
/// let xml = Transformer::to_xml(&json!({"return_code": "SUCCESS", "detail": "<b>&\"</b>", "total_fee": 1}))?;
/// assert_eq!(xml, "<xml><return_code>SUCCESS</return_code><detail><![CDATA[<b>&\"</b>]]></detail><total_fee>1</total_fee></xml>");
/// assert_eq!(Transformer::to_array(&xml)?["detail"], "<b>&\"</b>");
/// assert!(Transformer::to_array("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml>&e;</xml>").is_err());
/// # Ok::<(), wechatpay::Error>(())
/// ```
#[derive(Debug)]
pub struct Transformer;

/// Characters XML 1.0 forbids (`#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`
/// are allowed; Rust `char` already excludes surrogates).
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn sanitize(text: &str) -> String {
    text.chars().filter(|&c| allowed(c)).collect()
}

/// The first character XML 1.0 cannot carry, if any: such a value would be signed with it and
/// sent without it, so callers that sign refuse it instead.
pub(crate) fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|&c| !allowed(c))
}

/// How deep elements may nest, counting `<xml>` itself. WeChat Pay's XML is flat (one level under
/// `<xml>`, a few fields such as `detail` one more); the cap keeps hostile input from exhausting
/// the stack in the parser or in the recursive clone, serialization and drop of the parsed value.
/// `to_xml` refuses to write what `to_array` would refuse to read.
pub const MAX_DEPTH: usize = 32;

/// `[\pL_][\pL0-9._:-]*`, as PHP validates element names.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphabetic() || c.is_ascii_digit() || matches!(c, '.' | '_' | ':' | '-'))
}

fn write_text(out: &mut String, text: &str) {
    let text = sanitize(text);
    if text.contains(['>', '&', '"', '<']) {
        // CDATA cannot contain `]]>`: end the section there and start a new one.
        out.push_str("<![CDATA[");
        out.push_str(&text.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]>");
    } else {
        out.push_str(&text);
    }
}

fn write_value(out: &mut String, key: &str, value: &Value, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(ConfigError::new("xml", format!("nests deeper than {MAX_DEPTH} levels")).into());
    }
    out.push('<');
    out.push_str(key);
    out.push('>');
    match value {
        Value::Object(map) => write_map(out, map, depth + 1)?,
        Value::Array(items) => {
            for item in items {
                write_value(out, "item", item, depth + 1)?;
            }
        }
        Value::String(s) => write_text(out, s),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Bool(true) => out.push('1'),
        Value::Bool(false) | Value::Null => {}
    }
    out.push_str("</");
    out.push_str(key);
    out.push('>');
    Ok(())
}

fn write_map(out: &mut String, map: &Map<String, Value>, depth: usize) -> Result<()> {
    for (key, value) in map {
        if !valid_name(key) {
            return Err(ConfigError::new(format!("xml.{key}"), "is not a valid XML element name").into());
        }
        write_value(out, key, value, depth)?;
    }
    Ok(())
}

fn malformed(reason: impl Into<String>) -> crate::Error {
    DecodeError::xml(reason.into()).into()
}

/// An element being read: its text and its children.
struct Frame {
    name: String,
    text: String,
    children: Map<String, Value>,
}

fn insert(children: &mut Map<String, Value>, name: String, value: Value) {
    // A repeated element becomes a list, as PHP's SimpleXML cast makes it.
    match children.get_mut(&name) {
        Some(Value::Array(list)) => list.push(value),
        Some(existing) => *existing = Value::Array(vec![existing.take(), value]),
        None => {
            children.insert(name, value);
        }
    }
}

impl Transformer {
    /// `<xml>…</xml>` from an object: strings as text, or CDATA when they hold `<>&"`; numbers
    /// as written; `true` as `1`; nested objects as nested elements, arrays as `<item>`s.
    /// A key that is not a valid element name is an error naming it, and so is nesting deeper
    /// than [`MAX_DEPTH`].
    pub fn to_xml(data: &Value) -> Result<String> {
        let Value::Object(map) = data else {
            return Err(ConfigError::new("xml", "must be an object").into());
        };
        let mut out = String::from("<xml>");
        // `<xml>` is level 1, its children level 2.
        write_map(&mut out, map, 2)?;
        out.push_str("</xml>");
        Ok(out)
    }

    /// The root element's children as an object of strings (nested elements as objects,
    /// repeated ones as lists). Characters XML forbids are stripped first. A DOCTYPE (and so any
    /// custom entity: XXE, billion laughs) is refused, and so is nesting deeper than
    /// [`MAX_DEPTH`]; malformed input is an error.
    pub fn to_array(xml: &str) -> Result<Value> {
        let xml = sanitize(xml);
        let mut reader = Reader::from_str(&xml);
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Value> = None;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| malformed(format!("at byte {}: {e}", reader.buffer_position())))?;
            let in_root = !stack.is_empty();
            match event {
                Event::DocType(_) => return Err(malformed("DOCTYPE declarations are refused (XXE protection)")),
                Event::Start(start) => {
                    if root.is_some() {
                        return Err(malformed("more than one root element"));
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(malformed(format!("elements nest deeper than {MAX_DEPTH} levels")));
                    }
                    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    stack.push(Frame {
                        name,
                        text: String::new(),
                        children: Map::new(),
                    });
                }
                Event::Empty(empty) => {
                    let name = String::from_utf8_lossy(empty.name().as_ref()).into_owned();
                    match stack.last_mut() {
                        Some(parent) => insert(&mut parent.children, name, Value::String(String::new())),
                        None if root.is_none() => root = Some(Value::Object(Map::new())),
                        None => return Err(malformed("more than one root element")),
                    }
                }
                Event::End(_) => {
                    let frame = stack.pop().ok_or_else(|| malformed("an end tag without a start"))?;
                    let value = if frame.children.is_empty() {
                        Value::String(frame.text)
                    } else {
                        Value::Object(frame.children)
                    };
                    match stack.last_mut() {
                        Some(parent) => insert(&mut parent.children, frame.name, value),
                        None => {
                            root = Some(match value {
                                Value::Object(map) => Value::Object(map),
                                _ => Value::Object(Map::new()),
                            });
                        }
                    }
                }
                Event::Text(text) if in_root => {
                    let text = text.decode().map_err(|e| malformed(e.to_string()))?;
                    if let Some(frame) = stack.last_mut() {
                        frame.text.push_str(&text);
                    }
                }
                Event::CData(data) if in_root => {
                    let text = data.decode().map_err(|e| malformed(e.to_string()))?;
                    if let Some(frame) = stack.last_mut() {
                        frame.text.push_str(&text);
                    }
                }
                Event::GeneralRef(reference) if in_root => {
                    let resolved = match reference.resolve_char_ref().map_err(|e| malformed(e.to_string()))? {
                        Some(c) => c,
                        None => match reference.decode().map_err(|e| malformed(e.to_string()))?.as_ref() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "quot" => '"',
                            "apos" => '\'',
                            other => return Err(malformed(format!("entity &{other}; is not allowed"))),
                        },
                    };
                    if let Some(frame) = stack.last_mut() {
                        frame.text.push(resolved);
                    }
                }
                Event::Text(text) if text.iter().all(u8::is_ascii_whitespace) => {}
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(malformed("content outside the root element"))
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
        if !stack.is_empty() {
            return Err(malformed(format!("<{}> is never closed", stack[stack.len() - 1].name)));
        }
        root.ok_or_else(|| malformed("no root element"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_cdata_nested_lists_and_chinese() {
        let data = json!({
            "appid": "wx2421b1c4370ec43b", "body": "腾讯充值中心-QQ会员充值", "attach": "a]]>b<c",
            "detail": {"goods": [{"id": "1", "name": "iPhone"}, {"id": "2", "name": "iPad"}]},
            "total_fee": 1, "flag": true, "empty": null
        });
        let xml = Transformer::to_xml(&data).unwrap();
        assert!(
            xml.contains("<attach><![CDATA[a]]]]><![CDATA[>b<c]]></attach>"),
            "{xml}"
        );
        let back = Transformer::to_array(&xml).unwrap();
        assert_eq!(back["body"], "腾讯充值中心-QQ会员充值");
        assert_eq!(back["attach"], "a]]>b<c");
        assert_eq!(back["total_fee"], "1");
        assert_eq!(back["flag"], "1");
        assert_eq!(back["empty"], "");
        assert_eq!(back["detail"]["goods"]["item"][1]["name"], "iPad");
    }

    #[test]
    fn refuses_doctype_entities_and_malformed_input() {
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><a>&xxe;</a></xml>";
        let laughs = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><xml><a>&lol2;</a></xml>";
        for bad in [
            xxe,
            laughs,
            "<xml><a>&undefined;</a></xml>",
            "<xml><a>1</a>",
            "<xml><a>1</b></xml>",
            "<xml/><xml/>",
            "",
            "not xml",
            "<xml></xml><!-- --><x/>",
        ] {
            let err = Transformer::to_array(bad).unwrap_err();
            assert!(err.is_decode(), "{bad}: {err}");
        }
        // An injected fragment inside a value stays text, never structure.
        let injected = Transformer::to_xml(&json!({"body": "</body><total_fee>0</total_fee><body>"})).unwrap();
        let back = Transformer::to_array(&injected).unwrap();
        assert_eq!(back.as_object().unwrap().len(), 1);
        assert_eq!(back["body"], "</body><total_fee>0</total_fee><body>");
    }

    #[test]
    fn strips_forbidden_characters_and_keeps_references() {
        let back = Transformer::to_array("<xml><a>x\u{1}y &#20013;&lt;&amp;</a><b><![CDATA[<z>]]></b></xml>").unwrap();
        assert_eq!(back["a"], "xy 中<&");
        assert_eq!(back["b"], "<z>");
        assert_eq!(Transformer::to_array("<xml/>").unwrap(), json!({}));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // 100,000 levels (about 700 KB) overflowed the stack before the cap.
        let levels = 100_000;
        let xml = format!("<xml>{}{}</xml>", "<a>".repeat(levels), "</a>".repeat(levels));
        let err = Transformer::to_array(&xml).unwrap_err();
        assert!(err.is_decode() && err.to_string().contains("deeper than 32"), "{err}");
        // Exactly at the cap still parses.
        let ok = format!(
            "<xml>{}x{}</xml>",
            "<a>".repeat(MAX_DEPTH - 1),
            "</a>".repeat(MAX_DEPTH - 1)
        );
        assert!(Transformer::to_array(&ok).is_ok());
        let over = format!("<xml>{}x{}</xml>", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(Transformer::to_array(&over).is_err());

        let nested = |levels: usize| {
            let mut value = json!("leaf");
            for _ in 0..levels {
                value = json!({ "a": value });
            }
            value
        };
        let err = Transformer::to_xml(&json!({ "d": nested(40) })).unwrap_err();
        assert!(err.is_config() && err.to_string().contains("deeper than 32"), "{err}");
        // What to_xml writes, to_array reads back: 32 levels counting <xml>, and not one more
        // (found by the `xml` fuzz target: 33 levels were written, then refused on reading).
        let at_cap = Transformer::to_xml(&json!({ "d": nested(MAX_DEPTH - 2) })).unwrap();
        assert!(Transformer::to_array(&at_cap).is_ok());
        assert!(Transformer::to_xml(&json!({ "d": nested(MAX_DEPTH - 1) })).is_err());
    }

    #[test]
    fn element_names_are_validated() {
        for bad in ["1abc", "a b", "", "a<b"] {
            let err = Transformer::to_xml(&json!({ bad: "v" })).unwrap_err();
            assert!(err.is_config(), "{bad}");
        }
        assert!(Transformer::to_xml(&json!("text")).is_err());
        assert!(Transformer::to_xml(&json!({"名称": "ok", "_x.y-z": 1})).is_ok());
    }
}
