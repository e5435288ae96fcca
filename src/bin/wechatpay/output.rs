//! What the CLI prints: answer bodies on stdout (pretty on a terminal, the bytes as they came in
//! a pipe), notes for a person on stderr, server text with its control characters escaped, and
//! usage errors with secrets taken out.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};

/// How an answer body goes to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyStyle {
    /// JSON indented, other text with control characters escaped; binary not dumped.
    Pretty,
    /// The bytes as received.
    Raw,
}

impl BodyStyle {
    /// `--pretty` / `--raw`, else pretty on a terminal and raw in a pipe.
    pub(crate) fn choose(pretty: bool, raw: bool) -> Self {
        match (pretty, raw) {
            (true, _) => Self::Pretty,
            (_, true) => Self::Raw,
            _ if std::io::stdout().is_terminal() => Self::Pretty,
            _ => Self::Raw,
        }
    }
}

/// Writes an answer body to stdout in `style` (a closed stdout is not an error: `… | head`).
pub(crate) fn body(bytes: &[u8], style: BodyStyle) {
    let mut out = std::io::stdout().lock();
    let _ = match style {
        BodyStyle::Raw => out.write_all(bytes),
        BodyStyle::Pretty => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(json) => writeln!(
                out,
                "{}",
                for_stdout(&serde_json::to_string_pretty(&json).unwrap_or_default())
            ),
            Err(_) if bytes.is_empty() => Ok(()),
            Err(_) => match std::str::from_utf8(bytes) {
                Ok(text) => writeln!(out, "{}", for_stdout(text.trim_end_matches('\n'))),
                Err(_) => {
                    note!(
                        "(a binary answer of {} bytes is not shown on a terminal: save it with -o FILE, or pipe it)",
                        bytes.len()
                    );
                    Ok(())
                }
            },
        },
    };
    let _ = out.flush();
}

/// A value as indented JSON on stdout.
pub(crate) fn json(value: &impl serde::Serialize) {
    say!(
        "{}",
        for_stdout(&serde_json::to_string_pretty(value).unwrap_or_default())
    );
}

/// Text for stdout: escaped as [`terminal_safe`] when stdout is a terminal (serde_json escapes
/// C0 controls in strings, but not DEL, C1 controls or bidi overrides), unchanged in a pipe,
/// where a program reads it.
pub(crate) fn for_stdout(text: &str) -> std::borrow::Cow<'_, str> {
    if std::io::stdout().is_terminal() {
        std::borrow::Cow::Owned(terminal_safe(text))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A note for a person waiting at a terminal (stderr); nothing when stderr is not a terminal.
pub(crate) fn status(text: &str) {
    if std::io::stderr().is_terminal() {
        note!("{text}");
    }
}

/// Flags whose values are secrets: never echoed, even in a usage error.
const SECRET_FLAGS: &[&str] = &["--private-key", "--apiv3-key", "--secret"];

/// Environment variables holding the same secrets.
const SECRET_ENV: &[&str] = &["WECHATPAY_PRIVATE_KEY", "WECHATPAY_APIV3_KEY", "WECHATPAY_SECRET"];

/// Text from outside (a server's answer, an error it caused) made safe to print: control
/// characters other than line feeds (ESC, CR, BEL, DEL, C1, bidi overrides) become `\u{…}`, so a
/// hostile or broken server can neither drive the terminal nor forge an `error (…):` line.
pub(crate) fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let dangerous = (c.is_control() && c != '\n')
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if dangerous {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// One line of outside text: as [`terminal_safe`], and line feeds escaped too.
pub(crate) fn one_line(text: &str) -> String {
    terminal_safe(text).replace('\n', "\\u{a}")
}

/// Whether an argument looks like key material (PEM text, `private.pkcs8://…`).
pub(crate) fn is_key_material(text: &str) -> bool {
    text.contains("-----BEGIN") || text.contains("PRIVATE KEY") || text.contains("://MII")
}

/// The secret values among the arguments and the environment.
fn secrets(args: &[OsString]) -> Vec<String> {
    let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut found = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if is_key_material(arg) {
            found.push(arg.clone());
        }
        for flag in SECRET_FLAGS {
            if arg == flag {
                found.extend(args.get(i + 1).cloned());
            } else if let Some(value) = arg.strip_prefix(flag).and_then(|rest| rest.strip_prefix('=')) {
                found.push(value.to_owned());
            }
        }
    }
    found.extend(SECRET_ENV.iter().filter_map(|name| std::env::var(name).ok()));
    // Longest first, so a secret that contains another is replaced whole.
    found.retain(|s| s.trim().len() >= 4);
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found
}

/// A usage error as clap renders it, with every secret value replaced by `<redacted>`.
pub(crate) fn redacted_usage_error(rendered: &str, args: &[OsString]) -> String {
    let mut text = rendered.to_owned();
    for secret in secrets(args) {
        text = text.replace(&secret, "<redacted>");
        // clap may quote a multi-line value line by line; take out each long line too.
        for line in secret.lines().filter(|l| l.trim().len() >= 16) {
            text = text.replace(line, "<redacted>");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_taken_out_of_usage_errors() {
        let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        let args: Vec<OsString> = ["wechatpay", "--bogus", key, "--apiv3-key=0123456789abcdef"]
            .iter()
            .map(OsString::from)
            .collect();
        let rendered = format!("error: unexpected argument '{key}' found; 0123456789abcdef");
        let shown = redacted_usage_error(&rendered, &args);
        assert!(
            !shown.contains("MIIEvQ") && !shown.contains("0123456789abcdef"),
            "{shown}"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(terminal_safe("a\x1b[2Jb\r\nc\x07"), "a\\u{1b}[2Jb\\u{d}\nc\\u{7}");
        assert_eq!(one_line("a\nb"), "a\\u{a}b");
    }
}
