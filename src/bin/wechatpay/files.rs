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
/// created with `access`, which is then renamed over it. A reader never sees half of it, and on
/// Unix one that held the old file open (perhaps while it was readable by others) keeps the old
/// contents, never the new. A symbolic link is followed: the file it points to is replaced, the
/// link stays. Anything else (`/dev/null`, a pipe, a terminal) is written as it is, its mode left
/// alone.
pub(crate) fn write(path: &Path, contents: &[u8], access: Access, what: &str) -> Result<()> {
    let failed = |e: std::io::Error| ConfigError::new(what, format!("cannot write {}: {e}", path.display()));
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    // A dangling link cannot be resolved: it is replaced by the file.
    let target = match is_link {
        true => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
        false => path.to_owned(),
    };
    if std::fs::metadata(&target).is_ok_and(|m| !m.is_file()) {
        let mut file = std::fs::OpenOptions::new().write(true).open(&target).map_err(failed)?;
        return file.write_all(contents).map_err(|e| failed(e).into());
    }
    let directory = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(hidden_name(&name, &wechatpay::Formatter::nonce(8)?));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = access;
    let mut file = options.open(&temporary).map_err(|e| {
        let reason = format!("cannot create {} to replace it with: {e}", temporary.display());
        ConfigError::new(what, format!("cannot write {}: {reason}", path.display()))
    })?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, &target));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(failed(e).into());
    }
    Ok(())
}

/// `.{name}.tmp-{nonce}`, with `name` cut (at a character boundary) so the whole stays within the
/// 255 bytes a file name may have.
fn hidden_name(name: &str, nonce: &str) -> String {
    let room = 255 - ".".len() - ".tmp-".len() - nonce.len();
    let mut end = name.len().min(room);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}.tmp-{nonce}", &name[..end])
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

#[cfg(test)]
mod tests {
    use super::hidden_name;

    #[test]
    fn hidden_names_fit_a_file_name_and_cut_between_characters() {
        assert_eq!(hidden_name("out.json", "n0nce"), ".out.json.tmp-n0nce");
        // 2 + 3k bytes: the 241 bytes of room end inside a character, so the cut steps back.
        let name = format!("ab{}", "账".repeat(84));
        let hidden = hidden_name(&name, "12345678");
        assert!(hidden.len() <= 255 && hidden.ends_with(".tmp-12345678"), "{hidden}");
        assert!(hidden.starts_with(".ab账"), "{hidden}");
    }
}
