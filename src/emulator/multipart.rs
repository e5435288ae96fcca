//! Just enough `multipart/form-data` parsing to check uploads as WeChat Pay does.
//!
//! Everything here runs on bodies from unauthenticated clients (an upload's signature covers its
//! `meta` part, so the body must be split before the signature can be checked): the search is
//! linear (Knuth–Morris–Pratt), the boundary is at most RFC 2046's 70 characters, and the number
//! of parts is capped.

use bytes::Bytes;

/// RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
pub(crate) const MAX_BOUNDARY: usize = 70;

/// More parts than any WeChat Pay upload has (they have two to five).
pub(crate) const MAX_PARTS: usize = 64;

/// One part: its form name, file name, and bytes.
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) body: Bytes,
}

/// What a `Content-Type` says about multipart.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Boundary<'a> {
    /// Not `multipart/form-data` with a boundary parameter.
    None,
    /// A usable boundary.
    Some(&'a str),
    /// `multipart/form-data` with an empty boundary or one over [`MAX_BOUNDARY`] characters.
    Invalid,
}

/// The boundary from a `Content-Type: multipart/form-data; boundary=…` value.
pub(crate) fn boundary(content_type: &str) -> Boundary<'_> {
    let Some((kind, params)) = content_type.split_once(';') else {
        return Boundary::None;
    };
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Boundary::None;
    }
    match params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
    {
        None => Boundary::None,
        Some(b) if b.is_empty() || b.len() > MAX_BOUNDARY => Boundary::Invalid,
        Some(b) => Boundary::Some(b),
    }
}

/// A needle with its Knuth–Morris–Pratt failure table: finding it costs O(haystack + needle),
/// where the naive window comparison costs O(haystack × needle).
pub(crate) struct Finder {
    needle: Vec<u8>,
    /// `fail[i]`: the length of the longest proper prefix of `needle[..=i]` that is also its suffix.
    fail: Vec<usize>,
}

impl Finder {
    pub(crate) fn new(needle: &[u8]) -> Self {
        let mut fail = vec![0; needle.len()];
        let mut k = 0;
        for i in 1..needle.len() {
            while k > 0 && needle[i] != needle[k] {
                k = fail[k - 1];
            }
            if needle[i] == needle[k] {
                k += 1;
            }
            fail[i] = k;
        }
        Self {
            needle: needle.to_vec(),
            fail,
        }
    }

    /// The first position at or after `from` where the needle starts.
    pub(crate) fn find(&self, haystack: &[u8], from: usize) -> Option<usize> {
        let rest = haystack.get(from..)?;
        if self.needle.is_empty() {
            return Some(from);
        }
        let mut k = 0;
        for (i, &byte) in rest.iter().enumerate() {
            while k > 0 && byte != self.needle[k] {
                k = self.fail[k - 1];
            }
            if byte == self.needle[k] {
                k += 1;
            }
            if k == self.needle.len() {
                return Some(from + i + 1 - k);
            }
        }
        None
    }
}

fn disposition_param(headers: &str, param: &str) -> Option<String> {
    let line = headers.lines().find(|l| {
        l.get(..20)
            .is_some_and(|start| start.eq_ignore_ascii_case("content-disposition:"))
    })?;
    // `form-data; name="a;b"; filename="x"`: a quoted value may hold `;`, so the parameters are
    // read in order rather than split on every `;`.
    let mut rest = line.get(20..)?;
    loop {
        let (_, after) = rest.split_once(';')?;
        let (key, after) = after.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim_end(), &after[end..])
            }
        };
        if key.trim() == param {
            return Some(value.to_owned());
        }
        rest = next;
    }
}

/// The parts, or `None` if the body is not well-formed multipart with this boundary (or has more
/// than [`MAX_PARTS`] parts).
pub(crate) fn parse(body: &Bytes, boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let first = Finder::new(&delimiter);
    let next_delimiter = Finder::new(&[b"\r\n".as_slice(), &delimiter].concat());
    let blank_line = Finder::new(b"\r\n\r\n");
    let mut parts = Vec::new();
    let mut at = first.find(body, 0)?.checked_add(delimiter.len())?;
    loop {
        if body.get(at..at.checked_add(2)?) == Some(b"--") {
            return Some(parts);
        }
        if parts.len() == MAX_PARTS {
            return None;
        }
        let headers_start = at.checked_add(2)?; // CRLF after the delimiter
        let headers_end = blank_line.find(body, headers_start)?;
        let headers = std::str::from_utf8(body.get(headers_start..headers_end)?).ok()?;
        let content_start = headers_end + 4;
        let next = next_delimiter.find(body, content_start)?;
        parts.push(Part {
            name: disposition_param(headers, "name")?,
            filename: disposition_param(headers, "filename"),
            body: body.slice(content_start..next),
        });
        at = next + 2 + delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finder_agrees_with_a_naive_search() {
        let naive =
            |h: &[u8], n: &[u8], from: usize| h.get(from..)?.windows(n.len()).position(|w| w == n).map(|i| i + from);
        let haystacks: [&[u8]; 5] = [b"", b"aaaaab", b"abababcabababd", b"--x\r\n--x--", b"aabaabaaab"];
        let needles: [&[u8]; 6] = [b"a", b"ab", b"aab", b"ababd", b"\r\n--x", b"aabaaab"];
        for h in haystacks {
            for n in needles {
                for from in 0..=h.len() + 1 {
                    assert_eq!(Finder::new(n).find(h, from), naive(h, n, from), "{h:?} {n:?} {from}");
                }
            }
        }
    }

    #[test]
    fn quoted_parameters_may_hold_semicolons() {
        // Found by the `emulator_request` fuzz target: names holding `;` were misread.
        let headers =
            "Content-Disposition: form-data; name=\"a;b\"; filename=\"x;name=y.png\"\r\nContent-Type: image/png";
        assert_eq!(disposition_param(headers, "name").as_deref(), Some("a;b"));
        assert_eq!(disposition_param(headers, "filename").as_deref(), Some("x;name=y.png"));
        let bare = "content-disposition: form-data; name=meta ; filename=f";
        assert_eq!(disposition_param(bare, "name").as_deref(), Some("meta"));
        assert_eq!(disposition_param(bare, "filename").as_deref(), Some("f"));
        assert_eq!(disposition_param(bare, "other"), None);
        assert_eq!(
            disposition_param("Content-Disposition: form-data; name=\"open", "name"),
            None
        );
    }

    #[test]
    fn boundaries_are_one_to_seventy_characters() {
        assert_eq!(boundary("multipart/form-data; boundary=abc"), Boundary::Some("abc"));
        assert_eq!(boundary("application/json"), Boundary::None);
        assert_eq!(boundary("multipart/form-data"), Boundary::None);
        assert_eq!(boundary("multipart/form-data; boundary="), Boundary::Invalid);
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        assert_eq!(boundary(&long), Boundary::Invalid);
        let edge = format!("multipart/form-data; boundary={}", "b".repeat(70));
        assert!(matches!(boundary(&edge), Boundary::Some(_)));
    }

    #[test]
    fn truncated_and_odd_bodies_are_refused_without_panicking() {
        for body in [
            &b""[..],
            b"--b",
            b"--b\r",
            b"--b\r\n",
            b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n",
            b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b",
            b"--b\r\n\xff\xfe\r\n\r\nx\r\n--b--",
        ] {
            assert!(parse(&Bytes::copy_from_slice(body), "b").is_none(), "{body:?}");
        }
        let ok = parse(
            &Bytes::from_static(b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--"),
            "b",
        )
        .map(|parts| parts.len());
        assert_eq!(ok, Some(1));
    }
}
