//! What may be shown of outside or secret text in errors, `Debug` and logs.
//!
//! Three rules, applied wherever such text meets a message: credentials in a URI are never shown,
//! key material is never quoted, and control characters (a server's or an attacker's) are escaped
//! so they cannot forge lines or drive a terminal.

use std::fmt::{self, Write};

/// `scheme://user:password@host` → `scheme://…@host`, whatever the shape: with or without a
/// scheme, with `@`, `/` or `?` in an unencoded password. Everything before the last `@` goes,
/// since a password is not bound to end where a URI parser would end the authority; hiding a
/// path's `@…` too is the price of never showing a password.
pub(crate) fn userinfo(uri: &str) -> String {
    let (scheme, rest) = match uri.find("://") {
        Some(at) => uri.split_at(at + 3),
        None => ("", uri),
    };
    match rest.rfind('@') {
        Some(at) => format!("{scheme}…@{}", &rest[at + 1..]),
        None => uri.to_owned(),
    }
}

/// Whether text looks like (part of) a key or certificate rather than a path or a name: a PEM
/// armour line, or a long run of base64 with line breaks.
pub(crate) fn is_key_material(text: &str) -> bool {
    text.contains("-----BEGIN")
        || text.contains("PRIVATE KEY")
        || text.contains("://MII")
        || (text.len() > 256 && text.contains('\n'))
}

/// Text with ASCII and Unicode control characters (ESC, CR, LF, BEL, DEL, C1, bidi overrides…)
/// written as `\u{…}` escapes, so that a hostile value prints as one inert line.
pub(crate) fn control_chars(text: &str) -> Escaped<'_> {
    Escaped(text)
}

/// See [`control_chars`].
pub(crate) struct Escaped<'a>(&'a str);

fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if is_dangerous(c) {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_hidden_in_every_shape() {
        assert_eq!(userinfo("http://user:secret@127.0.0.1:9"), "http://…@127.0.0.1:9");
        assert_eq!(userinfo("user:secret@127.0.0.1:9"), "…@127.0.0.1:9");
        assert_eq!(userinfo("http://u:p@ss@host:1"), "http://…@host:1");
        assert_eq!(
            userinfo("http://merchant:top/secret@127.0.0.1:3128"),
            "http://…@127.0.0.1:3128"
        );
        assert_eq!(userinfo("http://host:1/path"), "http://host:1/path");
        assert_eq!(userinfo("no credentials"), "no credentials");
    }

    #[test]
    fn control_characters_print_as_escapes() {
        let shown = control_chars("ok\x1b[2J\r\nerror (api): forged\x07\u{202e}x").to_string();
        assert_eq!(shown, "ok\\u{1b}[2J\\u{d}\\u{a}error (api): forged\\u{7}\\u{202e}x");
        assert_eq!(control_chars("参数错误 tab\tno").to_string(), "参数错误 tab\\u{9}no");
    }

    #[test]
    fn key_material_is_recognised() {
        assert!(is_key_material("-----BEGIN PRIVATE KEY-----\nMIIE"));
        assert!(is_key_material("private.pkcs8://MIIEvQ"));
        assert!(!is_key_material("/etc/wechatpay/apiclient_key.pem"));
    }
}
