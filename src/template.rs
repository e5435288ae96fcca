//! RFC 6570 path templates, levels 1 and 2: `{var}` percent-encodes everything but unreserved
//! characters, `{+var}` also keeps reserved ones; `{a,b}` lists are comma-joined. Literal text is
//! kept where a URI allows it and percent-encoded elsewhere, so what is signed is what is sent.

use serde_json::{Map, Value};

use crate::error::TemplateError;

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Reserved characters kept by `{+var}` and literal text — except `#`: a fragment is never
/// sent, so a `#` passed through would silently cut the path that is signed and requested.
fn is_reserved(b: u8) -> bool {
    matches!(
        b,
        b':' | b'/'
            | b'?'
            | b'['
            | b']'
            | b'@'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
    )
}

/// Percent-encodes `text`; with `allow_reserved`, reserved characters and existing `%XX` triplets
/// pass through unchanged.
pub(crate) fn encode(text: &str, allow_reserved: bool, out: &mut String) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let triplet =
            b == b'%' && bytes.len() > i + 2 && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit();
        if is_unreserved(b) || (allow_reserved && (is_reserved(b) || triplet)) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 0xf)]));
        }
        i += 1;
    }
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
