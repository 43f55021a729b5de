//! Runs Debian's `makepkg --printsrcinfo` (6.0.2) as the oracle for our `.SRCINFO` writer.
//!
//! makepkg refuses to run as root (exit 10, even for `--printsrcinfo`), and CI runs the tests as
//! root. As root, the call therefore goes through `runuser` to the unprivileged system user
//! [`TEST_USER`], created on first use; as anyone else, makepkg runs directly. Either way it runs
//! with a cleared environment, a C.UTF-8 locale, a private HOME (no user makepkg.conf) and
//! BUILDDIR/SRCDEST/PKGDEST/LOGDEST in a fresh directory it may write to.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::Duration;

/// The account makepkg runs as when the tests run as root.
pub const TEST_USER: &str = "raku-aur-test";

const MAKEPKG: &str = "/usr/bin/makepkg";

/// Returns what `makepkg --printsrcinfo` prints for the `PKGBUILD` in `pkgbuild_dir`.
///
/// Only the `PKGBUILD` is copied into the directory makepkg runs in, so `install=` and
/// `changelog=` files are not available to it. Panics, with makepkg's stderr, when it fails, and
/// when makepkg is not installed: an oracle test must never pass by not running.
pub fn printsrcinfo(pkgbuild_dir: &Path) -> String {
    assert!(
        Path::new(MAKEPKG).is_file(),
        "{MAKEPKG} is missing: install Debian's `makepkg` package (CI does)"
    );
    // The unprivileged user must be able to reach the directory, and $TMPDIR may lie under
    // root's home, so use /tmp itself.
    let work = tempfile::Builder::new()
        .prefix("raku-aur-makepkg-")
        .tempdir_in("/tmp")
        .expect("create a temporary directory in /tmp");
    let pkg_dir = work.path().join("pkg");
    let out_dir = work.path().join("out");
    for dir in [work.path(), &pkg_dir, &out_dir] {
        fs::create_dir_all(dir).expect("create makepkg directories");
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).expect("chmod 0755");
    }
    let pkgbuild = pkg_dir.join("PKGBUILD");
    fs::copy(pkgbuild_dir.join("PKGBUILD"), &pkgbuild).expect("copy the PKGBUILD");
    fs::set_permissions(&pkgbuild, fs::Permissions::from_mode(0o644)).expect("chmod 0644");

    // A new directory belongs to the effective user: this asks "are we root?" without libc.
    let as_root = fs::metadata(work.path()).expect("stat").uid() == 0;
    let mut command = if as_root {
        let (uid, gid) = test_user_ids();
        chown(&out_dir, Some(uid), Some(gid)).expect("give the output directory to the test user");
        let mut c = Command::new("runuser");
        c.args(["-u", TEST_USER, "--", "env", "-i"]);
        c
    } else {
        let mut c = Command::new("env");
        c.arg("-i");
        c
    };
    let out = out_dir.display();
    command
        .arg("PATH=/usr/bin:/bin")
        .arg("LC_ALL=C.UTF-8")
        .arg(format!("HOME={out}"));
    for var in ["BUILDDIR", "SRCDEST", "PKGDEST", "LOGDEST"] {
        command.arg(format!("{var}={out}"));
    }
    let output = command
        .args([MAKEPKG, "--printsrcinfo"])
        .current_dir(&pkg_dir)
        .output()
        .expect("start makepkg");
    assert!(
        output.status.success(),
        "makepkg --printsrcinfo failed ({}) for {}:\n{}",
        output.status,
        pkgbuild_dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("makepkg printed UTF-8")
}

/// The uid and gid of [`TEST_USER`], creating the account the first time.
///
/// Several test processes may get here at once: `useradd` then fails for all but one (the
/// name exists, or the passwd lock is held), so failures are followed by another look-up
/// rather than trusted.
pub fn test_user_ids() -> (u32, u32) {
    static IDS: OnceLock<(u32, u32)> = OnceLock::new();
    *IDS.get_or_init(|| {
        let mut last_error = String::new();
        for _ in 0..50 {
            if let Some(ids) = lookup_user(TEST_USER) {
                return ids;
            }
            let added = Command::new("useradd")
                .args(["--system", "--no-create-home", "--user-group"])
                .args(["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"])
                .arg(TEST_USER)
                .output()
                .expect("start useradd");
            if !added.status.success() {
                last_error = String::from_utf8_lossy(&added.stderr).into_owned();
                sleep(Duration::from_millis(100));
            }
        }
        panic!("cannot create the system user {TEST_USER}: {last_error}");
    })
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let output = Command::new("getent")
        .args(["passwd", name])
        .output()
        .expect("start getent");
    if !output.status.success() {
        return None;
    }
    let entry = String::from_utf8(output.stdout).expect("getent printed UTF-8");
    let fields: Vec<&str> = entry.trim_end().split(':').collect();
    let uid = fields.get(2)?.parse().ok()?;
    let gid = fields.get(3)?.parse().ok()?;
    Some((uid, gid))
}
