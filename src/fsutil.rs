//! File writing that never leaves a half-written file behind.

use std::fs::File;
use std::io::Write;

use anyhow::{Context, bail};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The start of the names of [`write_atomically`]'s temporary files, so that the ones a
/// killed process left behind can be told from anything else.
const TEMP_PREFIX: &str = ".raku-aur-tmp-";

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// a reader (or a crash) sees the old file or the new one, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_through_rename(path, bytes, true)
}

/// The temporary file, synced to disk first when `sync` says so, renamed over `path`.
fn write_through_rename(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    // Temporary files are created 0600; what we write is meant to be read by others.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
    if sync {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Like [`write_atomically`], but leaves a file that already holds exactly `bytes` alone:
/// a rerun over an unchanged ecosystem then costs reads, not thousands of fsyncs.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::read(path) {
        Ok(existing) if existing == bytes => Ok(()),
        _ => write_atomically(path, bytes),
    }
}

/// Like [`write_if_changed`], without the fsync: for files that are rebuilt from the state at
/// every run (the status site), where thousands of fsyncs would cost seconds and a file lost
/// to a power cut is rewritten by the next run. A reader still never sees half a file.
pub fn write_unsynced_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    write_through_rename(path, bytes, false)
}

/// Removes the temporary files of [`write_atomically`] in `dir` (not below it), which only a
/// process killed mid-write leaves behind. Call it only where no other process can be writing
/// into `dir`, such as sync's state directory under its lock.
pub fn remove_stale_temp_files(dir: &Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
            && entry.file_type()?.is_file()
        {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Makes the state directory if need be, takes its lock for the whole run, and removes the
/// temporary files a run killed mid-write left in it and in `also` (subdirectories).
pub fn take_state_dir(state: &Path, also: &[&str]) -> anyhow::Result<File> {
    std::fs::create_dir_all(state)
        .with_context(|| format!("cannot create the state directory {}", state.display()))?;
    let lock = lock_state_dir(state)?;
    let dirs = std::iter::once(state.to_path_buf()).chain(also.iter().map(|d| state.join(d)));
    for dir in dirs {
        remove_stale_temp_files(&dir)
            .with_context(|| format!("cannot clean up {}", dir.display()))?;
    }
    Ok(lock)
}

/// Takes the state directory's lock for the whole run (or for `approve`/`reject`); the OS
/// releases it if we die.
pub fn lock_state_dir(state: &Path) -> anyhow::Result<File> {
    let path = state.join("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another raku-aur sync is running on {} (it holds {}); this one exits without doing anything",
            state.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_files_are_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/PKGBUILD");
        write_if_changed(&path, b"one").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        let before = inode(&path);
        write_if_changed(&path, b"one").unwrap();
        assert_eq!(inode(&path), before, "an identical file was replaced");
        write_if_changed(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_ne!(inode(&path), before);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[test]
    fn only_our_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(&dir.path().join("published.json"), b"{}").unwrap();
        // What a process killed between creating its temporary file and renaming it leaves.
        let stale = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir.path())
            .unwrap()
            .keep()
            .unwrap()
            .1;
        std::fs::write(dir.path().join(".tmp-not-ours"), "x").unwrap();
        remove_stale_temp_files(dir.path()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".tmp-not-ours", "published.json"]);
        assert!(!stale.exists());
        remove_stale_temp_files(&dir.path().join("missing")).unwrap();
    }
}
