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

/// Writes `contents` to `path` (replacing it) with `access`; `what` names the flag in errors. A
/// regular file is made private before it is emptied and written; anything else (`/dev/null`,
/// a pipe, a terminal) is written as it is, its mode left alone.
pub(crate) fn write(path: &Path, contents: &[u8], access: Access, what: &str) -> Result<()> {
    #[cfg(not(unix))]
    let _ = access;
    let failed = |e: std::io::Error| ConfigError::new(what, format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(failed)?;
    let regular = file.metadata().map_err(failed)?.is_file();
    if regular {
        // The mode above applies only to a new file: an existing one is tightened before its
        // old contents go and the new ones are written.
        #[cfg(unix)]
        if access == Access::Private {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(failed)?;
        }
        file.set_len(0).map_err(failed)?;
    }
    file.write_all(contents).map_err(failed)?;
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
