//! wechatpay-php's `MediaUtil`: the multipart body of an image or video upload, whose signature
//! covers only the `meta` JSON part.

use std::path::Path;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::crypto::{backend, hex};
use crate::error::{ConfigError, Result};
use crate::options::Options;

/// A file to upload (`v3/merchant/media/upload`, `…/video_upload`, and the other multipart
/// endpoints): builds `multipart/form-data` with a `meta` part (`{"filename", "sha256"}`) and a
/// `file` part, and makes the request sign `meta` as WeChat Pay requires.
///
/// ```
/// use wechatpay::MediaUtil;
///
/// let media = MediaUtil::from_bytes("logo.png", b"\x89PNG\r\n\x1a\n....".to_vec());
/// assert_eq!(media.meta()["filename"], "logo.png");
/// assert_eq!(media.meta()["sha256"].as_str().unwrap().len(), 64);
/// assert!(media.content_type().starts_with("multipart/form-data; boundary="));
/// // client.chain("v3/merchant/media/upload").post(media.into_options())?
/// ```
#[derive(Debug, Clone)]
pub struct MediaUtil {
    filename: String,
    file: Bytes,
    meta: Value,
    boundary: String,
    /// The file part's name when set by hand; otherwise the catalog's (`form_fields`), or `file`.
    file_part: Option<String>,
    text_parts: Vec<(String, String)>,
}

/// Upload size limits WeChat Pay documents, checked before sending.
const SIZE_LIMITS: &[(&str, usize)] = &[
    ("v3/merchant/media/upload", 2 * 1024 * 1024),
    ("v3/merchant/media/video_upload", 5 * 1024 * 1024),
];

/// The documented size limit of an upload endpoint.
pub(crate) fn size_limit(template: &str) -> Option<usize> {
    SIZE_LIMITS
        .iter()
        .find(|(path, _)| *path == template)
        .map(|(_, limit)| *limit)
}

/// Content type by file extension; WeChat Pay accepts these for images and videos.
fn mime_of(filename: &str) -> &'static str {
    let extension = filename.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "bmp" => "image/bmp",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "avi" => "video/x-msvideo",
        "wmv" => "video/x-ms-wmv",
        "mpeg" | "mpg" => "video/mpeg",
        "mov" => "video/quicktime",
        "flv" => "video/x-flv",
        "mkv" => "video/x-matroska",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A name as a quoted `Content-Disposition` parameter: CR, LF and `"` percent-encoded as HTML
/// forms do, so a file or part name can never end the header line and inject part headers.
fn disposition_value(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            '"' => out.push_str("%22"),
            c => out.push(c),
        }
    }
    out
}

impl MediaUtil {
    /// Reads a file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| ConfigError::new("file", format!("cannot read {}: {e}", path.display())))?;
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| ConfigError::new("file", format!("{} has no file name", path.display())))?;
        Ok(Self::from_bytes(filename, bytes))
    }

    /// Uploads `bytes` under `filename`. In the part headers CR, LF and `"` of the name are
    /// percent-encoded (`%0D`, `%0A`, `%22`), as browsers do; `meta` keeps the name as given.
    ///
    /// ```
    /// use wechatpay::MediaUtil;
    ///
    /// let media = MediaUtil::from_bytes("x.png\r\nContent-Type: text/html", b"png".to_vec());
    /// let body = String::from_utf8_lossy(&media.body()).into_owned();
    /// assert!(body.contains("filename=\"x.png%0D%0AContent-Type: text/html\""));
    /// assert!(!body.contains("\r\nContent-Type: text/html"));
    /// ```
    pub fn from_bytes(filename: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let (filename, file) = (filename.into(), bytes.into());
        let meta = json!({"filename": filename, "sha256": hex::lower(&backend::sha256(&file))});
        let mut random = [0u8; 12];
        // Random, so no file can contain it by chance; the fixed fallback (if the OS random source
        // fails) is still a valid boundary for ordinary files.
        let boundary = match backend::fill_random(&mut random) {
            Ok(()) => format!("wechatpay-{}", hex::lower(&random)),
            Err(_) => "wechatpay-boundary-7d3a1f".to_owned(),
        };
        Self {
            filename,
            file,
            meta,
            boundary,
            file_part: None,
            text_parts: Vec::new(),
        }
    }

    /// Reads the file from an async reader (e.g. `tokio::fs::File`, an upload stream). The whole
    /// file is read: its SHA-256 goes in `meta`, which is sent (and signed) before it.
    pub async fn from_async_reader<R>(filename: impl Into<String>, mut reader: R) -> Result<Self>
    where
        R: tokio::io::AsyncRead + Unpin,
    {
        use tokio::io::AsyncReadExt;
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| ConfigError::new("file", format!("cannot read the upload: {e}")))?;
        Ok(Self::from_bytes(filename, bytes))
    }

    /// Replaces the `meta` object (wechatpay-php `setMeta`), for endpoints whose meta carries more
    /// than `filename` and `sha256`.
    pub fn set_meta(mut self, meta: Value) -> Self {
        self.meta = meta;
        self
    }

    /// Names the file part by hand. Not needed for catalog endpoints: the part names and their
    /// order come from the catalog (`form_fields`: `submission_file` for
    /// `v3/mch-manage/…/upload`, `meta` first for `v3/marketing/shopping-receipt/…`); elsewhere the
    /// default is `meta`, then `file`.
    pub fn file_part(mut self, name: impl Into<String>) -> Self {
        self.file_part = Some(name.into());
        self
    }

    /// The file part's name and whether it goes before `meta`, for an endpoint's `form_fields`.
    pub(crate) fn layout(&self, form_fields: &[&str]) -> (String, bool) {
        let position = |wanted: &dyn Fn(&str, &str) -> bool| {
            form_fields.iter().position(|field| {
                let (name, kind) = field.split_once(':').unwrap_or((field, ""));
                wanted(name, kind)
            })
        };
        let file_at = position(&|_, kind| kind == "file");
        let meta_at = position(&|name, _| name == "meta");
        let catalog_name = file_at
            .and_then(|i| form_fields[i].split(':').next())
            .map(str::to_owned);
        let name = self
            .file_part
            .clone()
            .or(catalog_name)
            .unwrap_or_else(|| "file".to_owned());
        let file_first = matches!((file_at, meta_at), (Some(f), Some(m)) if f < m);
        (name, file_first)
    }

    /// The `meta` JSON exactly as sent (and signed).
    pub(crate) fn meta_bytes(&self) -> Bytes {
        Bytes::from(self.meta.to_string())
    }

    /// Adds a plain form field after the file and `meta` (e.g. `item_id`).
    pub fn text_part(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.text_parts.push((name.into(), value.into()));
        self
    }

    /// The `meta` object.
    pub fn meta(&self) -> &Value {
        &self.meta
    }

    /// The file's size in bytes.
    pub fn len(&self) -> usize {
        self.file.len()
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.file.is_empty()
    }

    /// The `Content-Type` header value, for inspection. Send uploads with
    /// [`into_options`](Self::into_options): a request built by hand from this and
    /// [`body`](Self::body) would be signed over the whole body, not `meta`, and refused.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The multipart body with the default layout: `meta`, then the file (named as set with
    /// [`file_part`](Self::file_part), else `file`), then any text parts — for inspection only.
    /// Send uploads with [`into_options`](Self::into_options), which lays the body out for the
    /// endpoint (the catalog's part names and order) and signs `meta` as WeChat Pay requires; these
    /// bytes sent as a `body` option would be signed whole and refused.
    pub fn body(&self) -> Bytes {
        let name = self.file_part.clone().unwrap_or_else(|| "file".to_owned());
        self.body_with(&name, false)
    }

    /// The multipart body with the file part named `file_part`, before or after `meta`.
    pub(crate) fn body_with(&self, file_part: &str, file_first: bool) -> Bytes {
        let meta = self.meta.to_string();
        let boundary = &self.boundary;
        let meta_part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n"
        );
        let mut file_part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            disposition_value(file_part),
            disposition_value(&self.filename),
            mime_of(&self.filename)
        )
        .into_bytes();
        file_part.extend_from_slice(&self.file);
        file_part.extend_from_slice(b"\r\n");
        let mut body = Vec::with_capacity(self.file.len() + meta.len() + 512);
        if file_first {
            body.extend_from_slice(&file_part);
            body.extend_from_slice(meta_part.as_bytes());
        } else {
            body.extend_from_slice(meta_part.as_bytes());
            body.extend_from_slice(&file_part);
        }
        for (name, value) in &self.text_parts {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
                    disposition_value(name)
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Bytes::from(body)
    }

    /// Options for the upload request. The body is laid out for the endpoint when the request is
    /// made (part names and order from the catalog), the `meta` JSON is what is signed, and the
    /// documented size limits are checked before sending.
    pub fn into_options(self) -> Options {
        let mut options = Options::new();
        options.media = Some(self);
        options
    }
}
