//! RFC 6570 path templates, levels 1 and 2: `{var}` percent-encodes everything but unreserved
//! characters, `{+var}` also keeps reserved ones; `{a,b}` lists are comma-joined. Literal text is
//! kept where a URI allows it and percent-encoded elsewhere, so what is signed is what is sent.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::error::TemplateError;

/// `{var}`: everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `{+var}` and literal text also keep the reserved characters — except `#`: a fragment is never
/// sent, so a `#` passed through would silently cut the path that is signed and requested. (`%`
/// stays encoded here; `encode` lets whole `%XX` triplets through.)
const RESERVED_KEPT: &AsciiSet = &COMPONENT
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// Where the first `%XX` triplet (already percent-encoded text) starts.
fn first_triplet(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(2))
        .find(|&i| bytes[i] == b'%' && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit())
}

/// Percent-encodes `text`; with `allow_reserved`, reserved characters and existing `%XX` triplets
/// pass through unchanged.
pub(crate) fn encode(text: &str, allow_reserved: bool, out: &mut String) {
    if !allow_reserved {
        out.extend(utf8_percent_encode(text, COMPONENT));
        return;
    }
    let mut rest = text;
    while let Some(at) = first_triplet(rest) {
        out.extend(utf8_percent_encode(&rest[..at], RESERVED_KEPT));
        out.push_str(&rest[at..at + 3]);
        rest = &rest[at + 3..];
    }
    out.extend(utf8_percent_encode(rest, RESERVED_KEPT));
}

/// The text a variable's JSON value stands for.
pub(crate) fn scalar_text(name: &str, value: &Value) -> Result<String, TemplateError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(TemplateError::WrongType {
            name: name.to_owned(),
            found: json_type(other),
        }),
    }
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `{…}` bodies of a template.
fn expressions(template: &str) -> Result<Vec<&str>, TemplateError> {
    let syntax = |reason: &str| TemplateError::Syntax {
        template: template.to_owned(),
        reason: reason.to_owned(),
    };
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(syntax("`}` without `{`"));
        }
        let close = rest[open..].find('}').ok_or_else(|| syntax("`{` is never closed"))? + open;
        let body = &rest[open + 1..close];
        if body.contains('{') {
            return Err(syntax("nested `{`"));
        }
        out.push(body);
        rest = &rest[close + 1..];
    }
    Ok(out)
}

fn split_operator<'a>(template: &str, expression: &'a str) -> Result<(bool, &'a str), TemplateError> {
    let syntax = |reason: String| TemplateError::Syntax {
        template: template.to_owned(),
        reason,
    };
    let (reserved, list) = match expression.as_bytes().first() {
        Some(b'+') => (true, &expression[1..]),
        Some(op @ (b'#' | b'.' | b'/' | b';' | b'?' | b'&' | b'=' | b',' | b'!' | b'@' | b'|')) => {
            return Err(syntax(format!(
                "operator `{}` is not supported in paths (use `{{name}}` or `{{+name}}`; put query parameters in the `query` option)",
                *op as char
            )))
        }
        _ => (false, expression),
    };
    for name in list.split(',') {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !valid {
            return Err(syntax(format!(
                "`{{{expression}}}` is not a variable name (modifiers `*` and `:n` are not supported)"
            )));
        }
    }
    Ok((reserved, list))
}

/// Expands `template` with `variables`; every variable must be present and a string or number.
pub(crate) fn expand(template: &str, variables: &Map<String, Value>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    for expression in expressions(template)? {
        let at = rest.find('{').unwrap_or(rest.len());
        encode(&rest[..at], true, &mut out);
        let (reserved, list) = split_operator(template, expression)?;
        for (i, name) in list.split(',').enumerate() {
            let value = variables.get(name).ok_or_else(|| TemplateError::Missing {
                name: name.to_owned(),
                template: template.to_owned(),
            })?;
            if i > 0 {
                out.push(',');
            }
            encode(&scalar_text(name, value)?, reserved, &mut out);
        }
        rest = &rest[at + expression.len() + 2..];
    }
    encode(rest, true, &mut out);
    if has_dot_segment(&out) {
        return Err(TemplateError::DotSegment {
            template: template.to_owned(),
        });
    }
    Ok(out)
}

/// Whether a path (before any `?`) has a `.` or `..` segment, `%2E` spellings included: servers
/// and proxies resolve those, so the request would reach another path than the one signed.
fn has_dot_segment(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_unreserved_and_with_plus_reserved_and_triplets() {
        let cases = [
            ("a b/%2F%zz%4", false, "a%20b%2F%252F%25zz%254"),
            ("a b/%2F%zz%4", true, "a%20b/%2F%25zz%254"),
            ("张#?", false, "%E5%BC%A0%23%3F"),
            ("张#?", true, "%E5%BC%A0%23?"),
            ("%41%", false, "%2541%25"),
            ("%41%", true, "%41%25"),
            ("x%4", true, "x%254"),
            ("~!*'()", false, "~%21%2A%27%28%29"),
            ("~!*'()", true, "~!*'()"),
        ];
        for (text, allow_reserved, expected) in cases {
            let mut out = String::new();
            encode(text, allow_reserved, &mut out);
            assert_eq!(out, expected, "{text:?} {allow_reserved}");
        }
    }
    use serde_json::json;

    fn vars(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn simple_and_reserved_expansion() {
        let v = vars(json!({"id": "a/b c?d%e中", "n": 42, "path": "x/y?z"}));
        assert_eq!(expand("v3/t/{id}", &v).unwrap(), "v3/t/a%2Fb%20c%3Fd%25e%E4%B8%AD");
        assert_eq!(expand("v3/{+path}/{n}", &v).unwrap(), "v3/x/y?z/42");
        let hash = vars(json!({"v": "a#b/c"}));
        assert_eq!(expand("v3/{+v}#x", &hash).unwrap(), "v3/a%23b/c%23x");
        assert_eq!(expand("v3/{n,n}", &v).unwrap(), "v3/42,42");
        assert_eq!(expand("v3/plain", &v).unwrap(), "v3/plain");
    }

    #[test]
    fn literal_text_is_encoded_only_where_needed() {
        let v = Map::new();
        assert_eq!(expand("v3/a b/中/%41/%zz", &v).unwrap(), "v3/a%20b/%E4%B8%AD/%41/%25zz");
    }

    #[test]
    fn dot_segments_are_refused_however_they_arrive() {
        for (template, value) in [
            ("v3/pay/{id}/x", "."),
            ("v3/pay/{id}/x", ".."),
            ("v3/{+path}", "../refund"),
            ("v3/{+path}", "a/%2E%2e/b"),
            ("v3/../refund/{id}", "1"),
            ("v3/./x/{id}", "1"),
        ] {
            let v = vars(json!({"id": value, "path": value}));
            assert!(
                matches!(expand(template, &v), Err(TemplateError::DotSegment { .. })),
                "{template} {value}"
            );
        }
        // Dots inside a segment, or an encoded slash around them, are ordinary text.
        let v = vars(json!({"id": "a..b", "path": "x/.y/z.."}));
        assert_eq!(expand("v3/{id}/{+path}", &v).unwrap(), "v3/a..b/x/.y/z..");
        assert_eq!(expand("v3/{id}", &vars(json!({"id": "../x"}))).unwrap(), "v3/..%2Fx");
        assert_eq!(expand("v3/x?a=..", &Map::new()).unwrap(), "v3/x?a=..");
    }

    #[test]
    fn errors_name_the_problem() {
        let v = vars(json!({"obj": {}, "flag": true}));
        assert!(matches!(expand("v3/{missing}", &v), Err(TemplateError::Missing { name, .. }) if name == "missing"));
        assert!(matches!(
            expand("v3/{obj}", &v),
            Err(TemplateError::WrongType { found: "an object", .. })
        ));
        assert!(matches!(
            expand("v3/{flag}", &v),
            Err(TemplateError::WrongType { found: "a boolean", .. })
        ));
        for bad in ["v3/{", "v3/}", "v3/{?q}", "v3/{a*}", "v3/{}", "v3/{a{b}"] {
            assert!(matches!(expand(bad, &v), Err(TemplateError::Syntax { .. })), "{bad}");
        }
    }
}
