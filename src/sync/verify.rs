//! `sync --verify-build`: build a package with makepkg before pushing it, so that a PKGBUILD
//! which renders but does not build never reaches the AUR.
//!
//! makepkg runs in a scratch directory (BUILDDIR, SRCDEST, PKGDEST and LOGDEST all inside
//! it) and is removed with it; only the tail of its output survives, for the report. makepkg
//! checks the dependencies itself (`pacman -T`, or whatever `$PACMAN` names): they must be
//! installed on the build host, as an AUR helper would have installed them.

use std::fs::{self, File};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::render::Files;

/// How many lines of makepkg's output a failure report keeps.
const LOG_TAIL_LINES: usize = 30;

/// Fails when makepkg could not run at all here: it refuses root (exit 10), and every
/// package would then fail in the same way, so the run stops before it starts.
pub fn check_usable() -> Result<(), String> {
    // /proc/self belongs to the process's effective uid: a root check without libc.
    let euid = fs::metadata("/proc/self")
        .map_err(|e| format!("--verify-build cannot tell which user this is: {e}"))?
        .uid();
    if euid == 0 {
        return Err(
            "--verify-build runs makepkg, which refuses to run as root: run raku-aur sync as an \
             unprivileged user (with the packages' dependencies installed), or drop --verify-build"
                .into(),
        );
    }
    Ok(())
}

/// Builds `files` with `makepkg --cleanbuild`, checks included. `Err` carries the exit status
/// and the last lines of the build log.
pub fn build(pkgbase: &str, files: &Files) -> Result<(), String> {
    let scratch = tempfile::Builder::new()
        .prefix("raku-aur-verify-")
        .tempdir()
        .map_err(|e| format!("cannot create a scratch directory for makepkg: {e}"))?;
    let dir = scratch.path();
    let pkg_dir = dir.join(pkgbase);
    let build_dir = dir.join("build");
    for d in [&pkg_dir, &build_dir] {
        fs::create_dir(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    fs::write(pkg_dir.join("PKGBUILD"), &files.pkgbuild)
        .and_then(|()| fs::write(pkg_dir.join(".SRCINFO"), &files.srcinfo))
        .map_err(|e| format!("cannot write the PKGBUILD for makepkg: {e}"))?;
    let log_path = dir.join("makepkg.log");
    let log = File::create(&log_path).map_err(|e| format!("cannot create the build log: {e}"))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot share the build log: {e}"))?;
    let status = Command::new("makepkg")
        .args([
            "--cleanbuild",
            "--noconfirm",
            "--noprogressbar",
            "--nocolor",
        ])
        // The log ends up in report.json: no terminal escapes from rakudo's errors either.
        .env("RAKUDO_ERROR_COLOR", "0")
        .current_dir(&pkg_dir)
        .envs(["BUILDDIR", "SRCDEST", "PKGDEST", "LOGDEST"].map(|v| (v, &build_dir)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .status()
        .map_err(|e| format!("cannot start makepkg: {e}"));
    // makepkg leaves $pkgdir's parent unwritable, which would keep the scratch directory
    // from being removed.
    make_writable(&build_dir);
    let status = status?;
    if status.success() {
        return Ok(());
    }
    Err(format!(
        "makepkg failed ({status}); the end of its log:\n{}",
        tail(&log_path)
    ))
}

/// Gives the owner write permission on every directory under `dir`; best effort, as the
/// removal that needs it is.
fn make_writable(dir: &Path) {
    if let Ok(meta) = fs::symlink_metadata(dir)
        && meta.is_dir()
    {
        let mut permissions = meta.permissions();
        permissions.set_mode(permissions.mode() | 0o700);
        let _ = fs::set_permissions(dir, permissions);
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            make_writable(&entry.path());
        }
    }
}

fn tail(log: &Path) -> String {
    let text = fs::read(log)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("(the log cannot be read: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        fs::write(&log, text).unwrap();
        let tail = tail(&log);
        assert_eq!(tail.lines().count(), LOG_TAIL_LINES);
        assert!(tail.starts_with("line 71\n"));
        assert!(tail.ends_with("line 100"));
    }
}
