//! Files written so that nothing is ever half-written: the bytes go to a temporary file beside the
//! target, are flushed to disk, and the temporary file is renamed over the target (atomic on POSIX).
//! Commands check every output path with [`check_writable`] before any work starts, so that a typo
//! in a directory name fails in a millisecond, not after hours of proving.

use std::io::Write;
use std::path::Path;

/// Lowercase hex of `bytes` (how digests are printed and named).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = parent_dir(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// The directory a file at `path` is written into (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> std::path::PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// Checks, without writing `path`, that a file can be written there as [`write_atomically`] writes
/// it: `path` is not a directory, its directory exists, and a file can be created in it (a probe
/// file is created beside the target and removed at once). Returns what is wrong, in words.
pub fn check_writable(path: &Path) -> Result<(), String> {
    if path.as_os_str().is_empty() {
        return Err("the path is empty".into());
    }
    if path.is_dir() {
        return Err(format!("{} is a directory, not a file", path.display()));
    }
    check_dir_writable(&parent_dir(path))
}

/// Checks that a directory can be created at `path` (its parent exists and is writable, and nothing
/// but a directory is there already) or, if one is there, that files can be created in it.
pub fn check_dir_creatable(path: &Path) -> Result<(), String> {
    if path.as_os_str().is_empty() {
        return Err("the path is empty".into());
    }
    if path.is_dir() {
        return check_dir_writable(path);
    }
    if path.exists() {
        return Err(format!("{} exists and is not a directory", path.display()));
    }
    check_dir_writable(&parent_dir(path))
}

/// Checks that `dir` is an existing directory in which this process can create a file.
fn check_dir_writable(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("the directory {} does not exist", dir.display()))
        }
        Err(e) => return Err(format!("the directory {}: {e}", dir.display())),
        Ok(m) if !m.is_dir() => return Err(format!("{} is not a directory", dir.display())),
        Ok(_) => {}
    }
    let probe = dir.join(format!(".zkdl-write-probe.{}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create files in {}: {e}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_target_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("zkdl-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("w.bin");
        write_atomically(&target, b"first").unwrap();
        write_atomically(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        let leftovers: Vec<_> =
            std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name() != "w.bin").collect();
        assert!(leftovers.is_empty());
        // A target in a missing directory is an error, not a panic, and leaves nothing behind.
        assert!(write_atomically(&dir.join("missing/w.bin"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writability_is_checked_before_anything_is_written() {
        let dir = std::env::temp_dir().join(format!("zkdl-files-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(check_writable(&dir.join("p.proof")), Ok(()));
        let missing = check_writable(&dir.join("missing/p.proof")).unwrap_err();
        assert!(missing.contains("does not exist") && missing.contains("missing"), "{missing}");
        assert!(check_writable(&dir).unwrap_err().contains("is a directory"));
        assert_eq!(check_dir_creatable(&dir.join("new.chain")), Ok(()));
        assert!(check_dir_creatable(&dir.join("missing/new.chain")).unwrap_err().contains("does not exist"));
        std::fs::write(dir.join("file"), b"x").unwrap();
        assert!(check_dir_creatable(&dir.join("file")).unwrap_err().contains("not a directory"));
        assert!(check_writable(&dir.join("file/p.proof")).unwrap_err().contains("not a directory"));
        // Nothing is left behind by the probes.
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("file")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let locked = dir.join("locked");
            std::fs::create_dir(&locked).unwrap();
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
            // Root may write anywhere; the check must agree with what a write would do.
            let writable = std::fs::write(locked.join("x"), b"x").is_ok();
            let _ = std::fs::remove_file(locked.join("x"));
            assert_eq!(check_writable(&locked.join("p.proof")).is_ok(), writable);
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
