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
    file_part: String,
    file_first: bool,
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

    /// Uploads `bytes` under `filename`.
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
            file_part: "file".to_owned(),
            file_first: false,
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

    /// Names the file part (default `file`; e.g. `submission_file`, `due_diligence_file`) and
    /// sends it before `meta`, as those endpoints document (catalog column `form_fields`).
    pub fn file_part(mut self, name: impl Into<String>) -> Self {
        self.file_part = name.into();
        self.file_first = true;
        self
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

    /// The `Content-Type` header value.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The multipart body: `meta` (JSON) and the file, in the order the endpoint documents,
    /// then any text parts.
    pub fn body(&self) -> Bytes {
        let meta = self.meta.to_string();
        let boundary = &self.boundary;
        let meta_part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n"
        );
        let mut file_part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            self.file_part.replace('"', "%22"),
            self.filename.replace('"', "%22"),
            mime_of(&self.filename)
        )
        .into_bytes();
        file_part.extend_from_slice(&self.file);
        file_part.extend_from_slice(b"\r\n");
        let mut body = Vec::with_capacity(self.file.len() + meta.len() + 512);
        if self.file_first {
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
                    name.replace('"', "%22")
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Bytes::from(body)
    }

    /// Options for the upload request: the multipart body, its content type, and the `meta` JSON
    /// as what is signed. Documented size limits are checked when the request is made.
    pub fn into_options(self) -> Options {
        let mut options = Options::new()
            .body(self.body())
            .header("Content-Type", self.content_type());
        options.signed_body = Some(Bytes::from(self.meta.to_string()));
        options.upload_size = Some(self.file.len());
        options
    }
}
