//! The built-in defaults: what a setting is when neither a flag nor the config file gives it.

use std::path::PathBuf;
use std::time::Duration;

/// The Raku Ecosystem Archive's index of every release ever made.
pub const DEFAULT_INDEX: &str = "https://raw.githubusercontent.com/Raku/REA/main/META.json";
/// A placeholder an operator replaces (see [`crate::config::is_placeholder`]).
pub const DEFAULT_MAINTAINER: &str = "raku-aur <raku-aur@example.invalid>";
/// The AUR's own git remotes.
pub const DEFAULT_REMOTE: &str = "ssh://aur@aur.archlinux.org/{pkgbase}.git";
/// The AUR's bulk metadata, which it asks bulk readers to use instead of its RPC.
pub const DEFAULT_AUR_METADATA: &str = "https://aur.archlinux.org/packages-meta-ext-v1.json.gz";
/// New packages per run: enough to make progress, few enough for a maintainer to review and
/// for the AUR not to see a flood.
pub const DEFAULT_MAX_NEW_PER_RUN: usize = 25;
/// How long an HTTP server may stay silent.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The repository's name when `[build] repo-name` does not give one.
pub const DEFAULT_REPO_NAME: &str = "raku-aur";
/// Package versions kept per package: the current one and the one before, for a downgrade.
pub const DEFAULT_KEEP: usize = 2;
/// A build that runs longer has hung (the largest modules build with their tests in minutes).
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(3600);
/// A failed build is tried again a day later: a failure of the network or a mirror passes,
/// and a broken package costs one build a day.
pub const DEFAULT_RETRY_FAILED_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Where the default builder keeps its chroot (see README, "Build farm").
pub const DEFAULT_CHROOT: &str = "/var/lib/raku-aur/chroot";
/// What prints the rakudo version builds get: the system's sync database, which the chroot
/// is updated from.
pub const DEFAULT_RAKUDO_VERSION_COMMAND: [&str; 5] =
    ["pacman", "-Sddp", "--print-format", "%v", "rakudo"];

/// devtools' makechrootpkg: a clean copy of the chroot per build (`-c`), brought up to date
/// first (`-u`, which also reads our repository's new database), our repository mounted
/// read-only where the chroot's `pacman.conf` expects it (`-D`).
pub fn default_build_command(repo_dir: &std::path::Path) -> Vec<String> {
    let repo = repo_dir.display().to_string();
    [
        "makechrootpkg",
        "-c",
        "-u",
        "-r",
        DEFAULT_CHROOT,
        "-D",
        &repo,
    ]
    .map(str::to_string)
    .to_vec()
}

/// `$XDG_CACHE_HOME/raku-aur` (only if absolute), else `~/.cache/raku-aur`.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("raku-aur")
}
