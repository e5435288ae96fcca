//! Files the CLI writes: anything that may hold a key, a secret or personal data (private keys,
//! `profile.json`, answers and bills saved with `-o`) is created readable by the owner only (0600,
//! directories 0700 on Unix), even when an earlier run left the file open to others.

use std::io::Write;
use std::path::Path;

use wechatpay::{ConfigError, Result};

/// Who may read a file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Certificates and public keys.
    Public,
    /// Everything else: the owner only.
    Private,
}

/// Writes `contents` to `path` (replacing it) with `access`; `what` names the flag in errors.
///
/// A regular file (or a new one) is replaced whole: the contents go to a hidden file beside it,
/// created with `access`, which is then renamed over it. A reader never sees half of it, and one
/// that held the old file open (perhaps while it was readable by others) keeps the old contents,
/// never the new. Anything else (`/dev/null`, a pipe, a terminal) is written as it is, its mode
/// left alone.
pub(crate) fn write(path: &Path, contents: &[u8], access: Access, what: &str) -> Result<()> {
    let failed = |e: std::io::Error| ConfigError::new(what, format!("cannot write {}: {e}", path.display()));
    let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
    if special {
        let mut file = std::fs::OpenOptions::new().write(true).open(path).map_err(failed)?;
        return file.write_all(contents).map_err(|e| failed(e).into());
    }
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Cut so the hidden name stays within the 255 bytes a file name may have.
    let mut end = name.len().min(200);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let temporary = directory.join(format!(".{}.tmp-{}", &name[..end], wechatpay::Formatter::nonce(8)?));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = access;
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&temporary, path));
    if let Err(e) = renamed {
        let _ = std::fs::remove_file(&temporary);
        return Err(failed(e).into());
    }
    Ok(())
}

/// `path` as a `file://` URI (absolute), for a profile.
pub(crate) fn uri(path: &Path) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    format!("file://{}", absolute.display())
}

/// Creates `dir` (and missing parents) readable by the owner only (0700 on Unix). An existing
/// directory is left as it is.
pub(crate) fn create_private_dir(dir: &Path, what: &str) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| ConfigError::new(what, format!("cannot create {}: {e}", dir.display())).into())
}
