//! Just enough `multipart/form-data` parsing to check uploads as WeChat Pay does.

use bytes::Bytes;

/// One part: its form name, file name, and bytes.
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) body: Bytes,
}

/// The boundary from a `Content-Type: multipart/form-data; boundary=…` value.
pub(crate) fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn disposition_param(headers: &str, param: &str) -> Option<String> {
    let line = headers
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    line.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k == param).then(|| v.trim_matches('"').to_owned())
    })
}

/// The parts, or `None` if the body is not well-formed multipart with this boundary.
pub(crate) fn parse(body: &Bytes, boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut at = find(body, &delimiter, 0)? + delimiter.len();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Some(parts);
        }
        let headers_start = at + 2; // CRLF after the delimiter
        let headers_end = find(body, b"\r\n\r\n", headers_start)?;
        let headers = std::str::from_utf8(body.get(headers_start..headers_end)?).ok()?;
        let content_start = headers_end + 4;
        let next = find(body, &[b"\r\n".as_slice(), &delimiter].concat(), content_start)?;
        parts.push(Part {
            name: disposition_param(headers, "name")?,
            filename: disposition_param(headers, "filename"),
            body: body.slice(content_start..next),
        });
        at = next + 2 + delimiter.len();
    }
}
