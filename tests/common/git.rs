//! The git command line on the test AUR's bare repositories, to see what the server holds.

use std::path::Path;
use std::process::Command;

/// Runs `git --git-dir REPO ARGS...` whatever user we are (the server's repositories belong
/// to another one) and without any user or system git config; panics unless git succeeds.
pub fn bare(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-c")
        .arg("safe.directory=*")
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", "/nonexistent")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("git prints UTF-8 here")
}
