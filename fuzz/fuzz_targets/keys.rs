//! Key and certificate loading from outside text and bytes.
//!
//! Every entry point that parses a key or certificate gets the input: the text forms
//! (`Rsa::from_private`, `Rsa::from_public`, with a passphrase, `PemUtil::load_*_from_string`,
//! the `private.pkcs8://`-style prefixes via `Rsa::from_pkcs8` & co), the DER constructors, a
//! key file's bytes (PEM or DER, through `file://`), PKCS#12, and PEM text given where a path is
//! expected.
//!
//! Properties: nothing panics; and no error (`Display` or `Debug`), nor the `Debug` of a loaded
//! key, quotes key material: a line of a `-----BEGIN` block's base64 body, the whole body, or the
//! base64 after a `private.…://` / `public.…://` prefix.
#![no_main]

use std::fmt::Debug;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wechatpay::{Certificate, PemUtil, PrivateKey, PublicKey, Rsa};

/// Runs shorter than this are too likely to appear in a message by chance.
const MIN_SECRET: usize = 16;

fn is_base64(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
}

/// The runs of base64 in `text` that look like key material: at least [`MIN_SECRET`] long,
/// holding a digit, a capital and a small letter (so that words from an error message's own text,
/// such as `EncryptedPrivateKeyInfo` or `unknown/unsupported`, never count: the fuzzer learns
/// them from this very comparison).
fn base64_runs(text: &str, out: &mut Vec<String>) {
    for run in text.split(|c: char| !is_base64(c)) {
        if run.len() >= MIN_SECRET
            && run.contains(|c: char| c.is_ascii_digit())
            && run.contains(|c: char| c.is_ascii_uppercase())
            && run.contains(|c: char| c.is_ascii_lowercase())
        {
            out.push(run.to_owned());
        }
    }
}

/// The key material in `text` that no message may quote: base64 runs of each line of a PEM
/// block's body and of the whole body, and of what follows a `private.…://` or `public.…://`
/// prefix. A block starts at `-----BEGIN `, as for the PEM reader. Its label is plain text
/// closed by `-----` within 64 characters (RFC 7468: letters, digits, spaces, `-`, `.`); when the
/// BEGIN line is not closed that way (a key flattened onto one line, CR line endings), the label
/// is only its leading capitals, digits and spaces. The body is what follows, up to the next
/// `-----END` or `-----BEGIN `. Text outside the bodies (labels, a preamble) may legitimately be
/// quoted, so runs that also occur there are left out.
fn secrets(text: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let mut outside = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        outside.push_str(&rest[..start]);
        let after = &rest[start..];
        let closed = after[10..].find("-----").filter(|&end| {
            end <= 65
                && after[10..10 + end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.'))
        });
        let body_start = match closed {
            Some(end) => 10 + end + 5,
            None => {
                10 + after[10..]
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' '))
                    .unwrap_or(after.len() - 10)
            }
        };
        outside.push_str(&after[..body_start]);
        let body_len = ["-----END", "-----BEGIN "]
            .iter()
            .filter_map(|m| after[body_start..].find(m))
            .min()
            .unwrap_or(after.len() - body_start);
        let body = &after[body_start..body_start + body_len];
        for line in body.split(['\r', '\n']) {
            base64_runs(line, &mut secrets);
        }
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        base64_runs(&compact, &mut secrets);
        rest = &after[body_start + body_len..];
    }
    outside.push_str(rest);
    for prefix in [
        "private.pkcs8://",
        "private.pkcs1://",
        "public.spki://",
        "public.pkcs1://",
    ] {
        if let Some(b64) = text.trim_start().strip_prefix(prefix) {
            base64_runs(b64, &mut secrets);
        }
    }
    secrets.retain(|s| !outside.contains(s.as_str()));
    secrets
}

fn check_no_leak<T: Debug, E: Debug + std::fmt::Display>(what: &str, result: &Result<T, E>, secrets: &[String]) {
    let shown = match result {
        Ok(value) => format!("{value:?}"),
        Err(e) => format!("{e}\n{e:?}"),
    };
    for secret in secrets {
        assert!(
            !shown.contains(secret.as_str()),
            "{what} quotes key material {secret:?} in: {shown}"
        );
    }
}

/// One file per process for the `file://` entry points (libFuzzer runs inputs one at a time).
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("wechatpay-fuzz-keys-{}.key", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The input as text is never a file URI: that would read whatever file it names.
    let text_ok = !text.trim_start().starts_with("file://");
    let secrets = secrets(&text);

    if text_ok {
        check_no_leak("Rsa::from_private", &Rsa::from_private(&*text), &secrets);
        check_no_leak("Rsa::from_public", &Rsa::from_public(&*text), &secrets);
        check_no_leak(
            "Rsa::from_private_with_passphrase",
            &Rsa::from_private_with_passphrase(&*text, "1900000109"),
            &secrets,
        );
        check_no_leak(
            "PemUtil::load_certificate_from_string",
            &PemUtil::load_certificate_from_string(&*text),
            &secrets,
        );
        // The bare base64 forms (`Rsa::fromPkcs8` & co prepend the prefix).
        if !text.contains("://") {
            let b64 = secrets_of_bare(&text);
            check_no_leak("Rsa::from_pkcs8", &Rsa::from_pkcs8(&*text), &b64);
            check_no_leak("Rsa::from_pkcs1", &Rsa::from_pkcs1(&*text), &b64);
            check_no_leak("Rsa::from_spki", &Rsa::from_spki(&*text), &b64);
            check_no_leak("Rsa::from_pkcs1_public", &Rsa::from_pkcs1_public(&*text), &b64);
            let _ = Rsa::pkcs1_to_spki(&*text);
        }
    }
    // PEM text passed where a path is expected: a common mistake, and the path lands in errors.
    // Only text holding a BEGIN line is tried, so no real file can be named.
    if text.contains("-----BEGIN ") {
        check_no_leak(
            "PemUtil::load_private_key",
            &PemUtil::load_private_key(&*text),
            &secrets,
        );
        check_no_leak(
            "PemUtil::load_certificate",
            &PemUtil::load_certificate(&*text),
            &secrets,
        );
        check_no_leak(
            "Rsa::from_private(file://…)",
            &Rsa::from_private(format!("file://{text}")),
            &secrets,
        );
    }

    // DER constructors.
    check_no_leak(
        "PrivateKey::from_pkcs8_der",
        &PrivateKey::from_pkcs8_der(data),
        &secrets,
    );
    check_no_leak(
        "PrivateKey::from_pkcs1_der",
        &PrivateKey::from_pkcs1_der(data),
        &secrets,
    );
    check_no_leak("PublicKey::from_spki_der", &PublicKey::from_spki_der(data), &secrets);
    check_no_leak("PublicKey::from_pkcs1_der", &PublicKey::from_pkcs1_der(data), &secrets);
    check_no_leak("Certificate::from_bytes", &Certificate::from_bytes(data), &secrets);

    // A key file's bytes: PEM if it looks like PEM, otherwise DER told apart by structure.
    let path = scratch();
    if std::fs::File::create(path).and_then(|mut f| f.write_all(data)).is_ok() {
        let uri = format!("file://{}", path.display());
        check_no_leak("Rsa::from_private(file)", &Rsa::from_private(&uri), &secrets);
        check_no_leak(
            "Rsa::from_private_with_passphrase(file)",
            &Rsa::from_private_with_passphrase(&uri, "1900000109"),
            &secrets,
        );
        check_no_leak("Rsa::from_public(file)", &Rsa::from_public(&uri), &secrets);
        check_no_leak(
            "PemUtil::load_certificate(file)",
            &PemUtil::load_certificate(path),
            &secrets,
        );
    }

    // apiclient_cert.p12, with the default password (the mchid).
    let p12 = PemUtil::load_pkcs12(data, "1900000109");
    let _ = format!("{p12:?}");
    if let Ok((certificate, key)) = p12 {
        assert!(
            certificate.matches(&key),
            "load_pkcs12 returned a certificate for another key"
        );
    }
});

/// Bare base64 given to `Rsa::from_pkcs8` & co is key material as a whole.
fn secrets_of_bare(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    base64_runs(text, &mut out);
    out
}
