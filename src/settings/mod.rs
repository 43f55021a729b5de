//! Settings, resolved once: a flag given on the command line wins over the config file, the
//! file over the built-in default. Every value is validated here into the type the commands
//! take, and remembers where it came from (what `check-config` prints). Nothing below the
//! commands sees a clap type.

mod defaults;
mod origin;
mod resolve;

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, ConfigError};
use crate::legacy::LegacyAutomation;
use crate::plan::Overrides;
use crate::review::ReviewPolicy;
use crate::stand_ins::StandIns;

pub use defaults::{
    DEFAULT_AUR_METADATA, DEFAULT_HTTP_TIMEOUT, DEFAULT_INDEX, DEFAULT_MAINTAINER, DEFAULT_REMOTE,
    default_cache_dir,
};
pub use origin::{Origin, Setting};
pub use resolve::{
    SyncDraft, SyncResolution, build, legacy, render, site, source, state_dir, sync,
};

/// Where the ecosystem comes from and how packages are made: what `render` and `sync` share.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// META6 indexes, paths or http(s) URLs; earlier ones win ties.
    pub indexes: Vec<String>,
    /// Only these distributions and what they depend on; empty: every distribution.
    pub only: Vec<String>,
    /// `(FROM, TO)` download prefixes, the longest FROM first.
    pub mirrors: Vec<(String, String)>,
    /// Where tarball facts and the last good copy of each downloaded document are kept.
    pub cache: PathBuf,
    /// `Name <email>` for the PKGBUILDs' `# Maintainer:` line.
    pub maintainer: String,
    /// The config file's per-distribution and system-package overrides.
    pub overrides: Overrides,
    /// How long an HTTP server may stay silent before a download fails.
    pub http_timeout: Duration,
}

/// `render`'s settings.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    pub source: SourceSettings,
    /// Where packages and report.json are written.
    pub out: PathBuf,
}

/// `sync`'s settings.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Repositories, records, the lock and report.json.
    pub state: PathBuf,
    /// The bot's AUR account.
    pub aur_user: String,
    pub options: SyncOptions,
}

/// `sync`'s settings that have a default (or may be left out).
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub source: SourceSettings,
    /// The remote template, with `{pkgbase}`.
    pub remote: String,
    pub ssh_key: Option<PathBuf>,
    /// `None`: the AUR's keys shipped in keys/.
    pub known_hosts: Option<PathBuf>,
    /// The AUR's metadata, a path or a URL.
    pub aur_metadata: String,
    pub dry_run: bool,
    /// `[build]`: build each package before it is pushed; `None` pushes without building.
    pub build: Option<BuildSettings>,
    /// `None`: the review gate is off.
    pub review: Option<ReviewPolicy>,
    /// AUR packages and maintainers trusted to stand in for a distribution, beyond the
    /// shipped list.
    pub stand_ins: StandIns,
    /// At most this many packages the AUR does not have yet go up in one run.
    pub max_new_per_run: usize,
    /// What `[legacy]` allows over the AUR's ssh interface.
    pub legacy: LegacyAutomation,
    /// `[site] dir`: where the status site is written after each run; `None`: it is not.
    pub site_dir: Option<PathBuf>,
    /// The binary repository the site tells users about, if it is served.
    pub site_repo: Option<PublicRepo>,
}

/// `site`'s settings: what it reads, as `sync` does, and where it writes.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    pub source: SourceSettings,
    /// sync's state directory: `published.json`, the review queue, `report.json`, builds.
    pub state: PathBuf,
    /// The AUR's metadata, a path or a URL.
    pub aur_metadata: String,
    /// The bot's AUR account, when known: packages it (co-)maintains are ours.
    pub aur_user: Option<String>,
    pub stand_ins: StandIns,
    pub out: PathBuf,
    /// The binary repository the site tells users about, if it is served.
    pub repo: Option<PublicRepo>,
}

/// Our binary repository as users add it: `[site] repo-url`, with `[build]`'s repository
/// name and signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicRepo {
    pub name: String,
    /// Where it is served.
    pub url: String,
    /// The signing key's full fingerprint; `None`: unsigned.
    pub sign_key: Option<String>,
}

/// How packages are built in a clean root, and the pacman repository they are kept in.
#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// The builder, an argv list (see README, "Build farm").
    pub command: Vec<String>,
    /// The repository's directory, served as static files.
    pub repo_dir: PathBuf,
    /// The repository's name, as `pacman.conf` takes it.
    pub repo_name: String,
    /// The GnuPG key (full fingerprint) that signs packages and the database.
    pub sign_key: Option<String>,
    /// Package versions kept in the directory per package.
    pub keep: usize,
    /// How long one build may run.
    pub timeout: Duration,
    /// How long a failed build of unchanged files waits before it is tried again.
    pub retry_failed_after: Duration,
    /// The command printing the rakudo version builds get, when every package is rebuilt
    /// into the repository after it changes; `None`: no rebuilds.
    pub rakudo_rebuild: Option<Vec<String>>,
}

/// `build`'s settings: sync's source and state settings, and `[build]`.
#[derive(Debug, Clone)]
pub struct BuildRunSettings {
    pub state: PathBuf,
    pub aur_user: String,
    pub source: SourceSettings,
    pub aur_metadata: String,
    pub stand_ins: StandIns,
    pub build: BuildSettings,
}

/// `legacy`'s settings.
#[derive(Debug, Clone)]
pub struct LegacySettings {
    pub source: SourceSettings,
    /// The AUR's metadata, a path or a URL.
    pub aur_metadata: String,
    /// The bot's AUR account, when known: packages it (co-)maintains are ours.
    pub aur_user: Option<String>,
    pub stand_ins: StandIns,
    pub json: bool,
}

/// The settings cannot be used; each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Settings that are missing or invalid, one sentence each.
    #[error("{}", problems.join("; "))]
    Unusable { problems: Vec<String> },
}

/// Reads the config file (`--config`, else the default location if a file is there).
///
/// # Errors
/// When the file cannot be used.
pub fn load_config(explicit: Option<&std::path::Path>) -> Result<Option<Config>, ConfigError> {
    let config = crate::config::load(explicit)?;
    if let Some(c) = &config {
        tracing::info!(config = %c.path.display(), "read the config file");
    }
    Ok(config)
}

#[cfg(test)]
mod tests;
