//! Streamed downloads: bills of hundreds of MB go to disk as they arrive, are hashed on the way,
//! and only land under their name when the hash matches.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::crypto::backend::StreamingDigest;
use crate::crypto::hex;
use crate::error::{ConfigError, Error, Result, TransportError, TransportKind, VerifyCheck, VerifyError};
use crate::options::Options;
use crate::pipeline::{Delivery, Pipeline};
use crate::response::Response;

/// Where a bill is and how to check it: the answer of `v3/bill/tradebill`, `v3/bill/fundflowbill`
/// and the sub-merchant bill endpoints.
///
/// ```
/// let bill: wechatpay::BillLocation = serde_json::from_str(
///     r#"{"hash_type":"SHA1","hash_value":"79bb0f45fc4c42234a918000b2668d689e2bde04",
///         "download_url":"https://api.mch.weixin.qq.com/v3/billdownload/file?token=xxx"}"#,
/// ).unwrap();
/// assert_eq!(bill.hash_type, "SHA1");
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct BillLocation {
    /// The (signed-request, unsigned-answer) download URL.
    pub download_url: String,
    /// `SHA1` (or `SHA256`).
    pub hash_type: String,
    /// Lowercase hex digest of the bill as text (after gunzip).
    pub hash_value: String,
}

/// What a download wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// Where the file is.
    pub path: PathBuf,
    /// Bytes written (after gunzip).
    pub bytes: u64,
    /// Whether the answer was gzip-compressed (and was decompressed).
    pub gunzipped: bool,
    /// The digest of what was written, lowercase hex.
    pub digest: String,
}

/// The hosts a signed download may go to under the default base URI: WeChat Pay's API hosts
/// (mainland, backup, Hong Kong). Anything else would receive a merchant-signed request.
const DOWNLOAD_HOSTS: &[&str] = &[
    "api.mch.weixin.qq.com",
    "api2.mch.weixin.qq.com",
    "apihk.mch.weixin.qq.com",
];

/// A download URL, checked and split into its origin plus prefix
/// (`https://api.mch.weixin.qq.com/hk/`) and the `v3/…` part the client sends as a template.
///
/// The URL is parsed before anything is decided from it: a check on the raw text can be fooled by
/// a fragment or userinfo that the URI parser later drops (`https://127.0.0.1#.weixin.qq.com/…`).
fn split_url(url: &str) -> Result<(String, String)> {
    let refuse = |reason: &str| {
        ConfigError::new(
            "download_url",
            format!(
                "{:?} {reason}",
                crate::signed_headers::excerpt(&crate::redact::userinfo(url))
            ),
        )
    };
    if url.contains('#') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse("has a fragment, white space or control characters").into());
    }
    let uri: http::Uri = url.parse().map_err(|_| refuse("is not a URL"))?;
    let scheme = uri.scheme_str().ok_or_else(|| refuse("is not an absolute URL"))?;
    let authority = uri.authority().ok_or_else(|| refuse("has no host"))?;
    if authority.as_str().contains('@') {
        return Err(refuse("carries credentials (user@host); refusing it").into());
    }
    let path = uri.path();
    let at = path
        .find("/v3/")
        .ok_or_else(|| refuse("is not a WeChat Pay v3 download URL"))?;
    // The token is already encoded; `{`/`}` would read as template expressions.
    let mut target = path[at + 1..].replace('{', "%7B").replace('}', "%7D");
    if let Some(query) = uri.query() {
        target.push('?');
        target.push_str(&query.replace('{', "%7B").replace('}', "%7D"));
    }
    Ok((format!("{scheme}://{authority}{}/", &path[..at]), target))
}

/// Under the default base URI a download goes where its URL says (apihk, `…/hk/`), provided that
/// is a WeChat Pay API host over HTTPS on the default port; under an explicit base URI (an
/// emulator, a proxy) it goes there.
fn route(pipeline: &Pipeline, url: &str) -> Result<(String, Option<String>)> {
    let (origin, target) = split_url(url)?;
    if !pipeline.base().is_default() {
        return Ok((target, None));
    }
    let uri: http::Uri = origin
        .parse()
        .map_err(|_| ConfigError::new("download_url", "is not a URL"))?;
    let trusted = uri.scheme_str() == Some("https")
        && uri.port_u16().is_none_or(|port| port == 443)
        && uri
            .host()
            .is_some_and(|host| DOWNLOAD_HOSTS.contains(&host.to_ascii_lowercase().as_str()));
    if !trusted {
        return Err(ConfigError::new(
            "download_url",
            format!(
                "{:?} is not on a WeChat Pay API host ({}) over HTTPS; refusing to send a signed request there",
                crate::signed_headers::excerpt(url),
                DOWNLOAD_HOSTS.join(", ")
            ),
        )
        .into());
    }
    Ok((target, Some(origin)))
}

/// Writes to the file while hashing what is written.
struct Sink {
    file: File,
    digest: StreamingDigest,
    bytes: u64,
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(data)?;
        self.digest.update(&data[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Plain, or gunzipping on the way to the sink.
enum Writer {
    Plain(Box<Sink>),
    Gzip(Box<flate2::write::GzDecoder<Sink>>),
}

impl Writer {
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Writer::Plain(sink) => sink.write_all(data),
            Writer::Gzip(decoder) => decoder.write_all(data),
        }
    }
}

/// The hidden name a download is written under before the rename: `.{name}.part-{nonce}`, with
/// `name` cut (at a character boundary) so the whole stays within the 255 bytes a file name may
/// have, whatever the destination's own length.
fn partial_name(name: &str, nonce: &str) -> String {
    const MAX_NAME: usize = 255;
    let room = MAX_NAME.saturating_sub(".".len() + ".part-".len() + nonce.len());
    let mut end = name.len().min(room);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}.part-{nonce}", &name[..end])
}

/// Removes the partial file unless the download completed.
struct Partial(Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    ConfigError::new("destination", format!("cannot {what} {}: {e}", path.display())).into()
}

/// A bill: its URL routed and checked, the signed GET through the pipeline, the body streamed to
/// disk and its digest checked against the bill's `hash_value`.
pub(crate) async fn bill(
    pipeline: Arc<Pipeline>,
    bill: BillLocation,
    destination: PathBuf,
    progress: Option<Arc<Progress>>,
) -> Result<Downloaded> {
    let digest = match bill.hash_type.to_ascii_uppercase().as_str() {
        "SHA1" => StreamingDigest::sha1(),
        "SHA256" => StreamingDigest::sha256(),
        other => {
            return Err(ConfigError::new("hash_type", format!("`{other}` is not SHA1 or SHA256")).into());
        }
    };
    let (target, origin) = route(&pipeline, &bill.download_url)?;
    let limit = pause_limit(&pipeline, &Options::new());
    let fetch = pipeline.run(Method::GET, &target, Options::new(), Delivery::Streamed { origin });
    file(fetch, limit, digest, Some(bill.hash_value), destination, progress).await
}

/// Any download endpoint (transfer receipts, complaint images, …) to a file, streamed; the
/// SHA-256 of what was written is reported, and nothing is left behind on failure.
pub(crate) async fn any(
    pipeline: Arc<Pipeline>,
    target: String,
    options: Options,
    destination: PathBuf,
) -> Result<Downloaded> {
    // Only answers WeChat Pay leaves unsigned may skip verification.
    let is_download =
        crate::catalog::find("GET", &target).is_some_and(|e| e.response == crate::catalog::ResponseKind::Download);
    if !is_download {
        return Err(ConfigError::new(
            "path",
            format!("GET {target} is not a download endpoint in the catalog (its answers are signed): use get()"),
        )
        .into());
    }
    // The client's timeout bounds the wait for the answer's head (in the pipeline) and each pause
    // between chunks (below), not the whole transfer: a large bill may rightly take minutes.
    let limit = pause_limit(&pipeline, &options);
    let fetch = pipeline.run(Method::GET, &target, options, Delivery::Streamed { origin: None });
    file(fetch, limit, StreamingDigest::sha256(), None, destination, None).await
}

/// The longest pause allowed between chunks of a download: the call's timeout, if any.
fn pause_limit(pipeline: &Pipeline, options: &Options) -> Duration {
    options
        .timeout
        .or(pipeline.timeout)
        .filter(|t| !t.is_zero())
        .unwrap_or(Duration::MAX)
}

/// A new file readable by the owner only (0600 on Unix): bills and receipts hold the merchant's
/// transactions.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// A download's progress report: the bytes received so far (as sent, before any gunzip) and the
/// length the server announced (`Content-Length`), if it did. Called after each chunk.
pub(crate) type Progress = dyn Fn(u64, Option<u64>) + Send + Sync;

/// Awaits the answer, then streams its body to a partial file (gunzipped when gzip, hashed on
/// the way), checks the digest and renames the file into place; on failure nothing is left.
async fn file(
    fetch: impl std::future::Future<Output = Result<Response>>,
    limit: Duration,
    digest: StreamingDigest,
    expected: Option<String>,
    destination: PathBuf,
    progress: Option<Arc<Progress>>,
) -> Result<Downloaded> {
    let response = fetch.await?;
    let total = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mut received = 0u64;
    let mut report = |chunk: usize| {
        received = received.saturating_add(chunk as u64);
        if let Some(progress) = &progress {
            progress(received, total);
        }
    };
    let mut body = response.take_stream().ok_or_else(|| {
        ConfigError::new(
            "middleware",
            "a layer replaced the download's streamed answer with a buffered one",
        )
    })?;

    let directory = destination
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial_path = directory.join(partial_name(&name, &crate::Formatter::nonce(8)?));
    let file = create_private(&partial_path).map_err(|e| io_error("create", &partial_path, e))?;
    let mut partial = Partial(Some(partial_path.clone()));
    let write_failed = |e: std::io::Error| io_error("write", &partial_path, e);
    let sink = Sink { file, digest, bytes: 0 };
    let broke = |e: hyper::Error| {
        Error::from(TransportError::new(
            TransportKind::Io,
            format!("the download broke off: {e}"),
            Some(Box::new(e)),
        ))
    };
    // The first data decides: gzip is recognised by its magic bytes, whatever was asked for.
    let first = loop {
        let next = tokio::time::timeout(limit, body.frame())
            .await
            .map_err(|_| Error::Timeout(limit))?;
        match next {
            None => break None,
            Some(frame) => {
                if let Ok(data) = frame.map_err(broke)?.into_data() {
                    break Some(data);
                }
            }
        }
    };
    let mut writer = match &first {
        Some(data) if data.starts_with(&[0x1f, 0x8b]) => Writer::Gzip(Box::new(flate2::write::GzDecoder::new(sink))),
        _ => Writer::Plain(Box::new(sink)),
    };
    if let Some(data) = first {
        writer.write_all(&data).map_err(write_failed)?;
        report(data.len());
    }
    while let Some(frame) = tokio::time::timeout(limit, body.frame())
        .await
        .map_err(|_| Error::Timeout(limit))?
    {
        if let Ok(data) = frame.map_err(broke)?.into_data() {
            writer.write_all(&data).map_err(write_failed)?;
            report(data.len());
        }
    }
    let gunzipped = matches!(writer, Writer::Gzip(_));
    let mut sink = match writer {
        Writer::Gzip(decoder) => decoder.finish().map_err(write_failed)?,
        Writer::Plain(sink) => *sink,
    };
    sink.flush().map_err(write_failed)?;
    sink.file.sync_all().map_err(write_failed)?;
    let actual = hex::lower(&sink.digest.finish());
    if let Some(expected) = expected.filter(|e| !actual.eq_ignore_ascii_case(e.trim())) {
        return Err(VerifyError::new(VerifyCheck::DownloadDigest { expected, actual }).into());
    }
    std::fs::rename(&partial_path, &destination).map_err(|e| io_error("move the download to", &destination, e))?;
    partial.0 = None;
    Ok(Downloaded {
        path: destination,
        bytes: sink.bytes,
        gunzipped,
        digest: actual,
    })
}

#[cfg(test)]
mod tests {
    use super::{partial_name, split_url};

    #[test]
    fn partial_names_fit_a_file_name_whatever_the_destination() {
        assert_eq!(partial_name("bill.csv", "n0nce"), ".bill.csv.part-n0nce");
        // 255 bytes is the longest name Linux and macOS allow; 账 is 3 bytes, so the cut must
        // fall between characters.
        // 1 + 3k bytes: the 240 bytes of room end inside a character, so the cut steps back.
        for name in ["a".repeat(255), format!("a{}", "账".repeat(84))] {
            let partial = partial_name(&name, "12345678");
            assert!(partial.len() <= 255, "{}", partial.len());
            assert!(partial.ends_with(".part-12345678"), "{partial}");
        }
    }

    #[test]
    fn download_urls_keep_their_host_and_prefix() {
        let (origin, target) = split_url("https://api.mch.weixin.qq.com/hk/v3/billdownload/file?token=a%2Bb").unwrap();
        assert_eq!(origin, "https://api.mch.weixin.qq.com/hk/");
        assert_eq!(target, "v3/billdownload/file?token=a%2Bb");
        let (origin, _) = split_url("https://apihk.mch.weixin.qq.com/v3/billdownload/file?token=x").unwrap();
        assert_eq!(origin, "https://apihk.mch.weixin.qq.com/");
        assert!(split_url("https://example.com/file").is_err());
        assert!(split_url("v3/billdownload/file").is_err());
        for hostile in [
            "https://127.0.0.1:9#.weixin.qq.com/v3/billdownload/file?token=x",
            "https://api.mch.weixin.qq.com@127.0.0.1/v3/billdownload/file?token=x",
            "https://api.mch.weixin.qq.com/v3/billdownload/file?token=x#y",
            "https://api.mch.weixin.qq.com /v3/billdownload/file",
        ] {
            assert!(split_url(hostile).is_err(), "{hostile}");
        }
    }
}
