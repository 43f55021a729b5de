//! The operator's config file (TOML): the settings `render`, `sync` and `check-config` also
//! take as flags, plus what only the file can say: per-distribution overrides, additions to
//! the system-package maps, and the review policy.
//!
//! - **Where.** `--config FILE`; else `$XDG_CONFIG_HOME/raku-aur/config.toml` when that
//!   variable is an absolute path; else `$HOME/.config/raku-aur/config.toml`. A missing default
//!   file means no config; a missing `--config` file is an error.
//! - **Precedence.** A flag given on the command line wins over the file, the file over the
//!   built-in default. A list flag (`--index`, `--only`, `--mirror`) replaces the file's list
//!   whole.
//! - **Validation.** Every value is validated into a type while the file is read, so a bad
//!   value stops the run before anything is done, with an error naming the file, the line and
//!   the key. Unknown keys are errors too: a misspelt key must not be silently ignored.
//! - **Paths** (`ssh-key`, `known-hosts`, `state-dir`, `cache-dir`, and `indexes` and
//!   `aur-metadata` when they are not URLs) are relative to the file's directory; `~` is not
//!   expanded, so a path starting with it is refused.

mod error;
mod locate;
mod schema;
mod toml_text;
mod values;

use std::path::{Path, PathBuf};

use crate::legacy::LegacyAutomation;
use crate::plan::Overrides;
use crate::review::ReviewPolicy;
use crate::stand_ins::StandIns;

pub use error::ConfigError;
pub use locate::default_path;
pub(crate) use toml_text::{toml_list, toml_str};
pub use values::{
    HttpTimeout, check_aur_user, check_maintainer, check_remote, check_repo_name, check_sign_key,
    is_placeholder,
};

/// The config file, read and validated. Paths are resolved against the file's directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    pub maintainer: Option<String>,
    pub aur_user: Option<String>,
    pub ssh_key: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub remote: Option<String>,
    pub state_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub indexes: Option<Vec<String>>,
    pub aur_metadata: Option<String>,
    pub http_timeout: Option<u64>,
    /// `(FROM, TO)` pairs, the longest FROM first, so the most specific prefix wins.
    pub mirrors: Option<Vec<(String, String)>>,
    /// `publish.only`; empty means every distribution.
    pub only: Vec<String>,
    /// `publish.max-new-per-run`.
    pub max_new_per_run: Option<usize>,
    /// `[legacy]`: steps over the AUR's ssh interface the operator allows.
    pub legacy: LegacyAutomation,
    pub overrides: Overrides,
    /// `[review]`; `None` leaves the review gate off.
    pub review: Option<ReviewPolicy>,
    /// `[trust]`: AUR packages and maintainers that may stand in for a distribution, beyond
    /// the shipped list.
    pub stand_ins: StandIns,
    /// `[build]`; `None`: sync pushes without building first.
    pub build: Option<BuildConfig>,
    /// `[site] dir`: sync writes the status site there after each run.
    pub site_dir: Option<PathBuf>,
    /// `[site] repo-url`: where the binary repository is served.
    pub site_repo_url: Option<String>,
    /// `key = value` lines for what only the file sets (`[dist]`, `[system]`, `[review]`,
    /// `publish.exclude`), for `check-config`.
    pub shown: Vec<(String, String)>,
}

/// `[build]` as the file gives it; defaults are the settings' business.
#[derive(Debug, Clone, Default)]
pub struct BuildConfig {
    /// The builder, an argv list.
    pub command: Option<Vec<String>>,
    pub repo_dir: Option<PathBuf>,
    pub repo_name: Option<String>,
    /// A full fingerprint, upper case, no spaces.
    pub sign_key: Option<String>,
    pub keep: Option<usize>,
    /// Seconds.
    pub timeout: Option<u64>,
    /// Hours.
    pub retry_failed_after: Option<u64>,
    pub rebuild_on_rakudo_change: bool,
    pub rakudo_version_command: Option<Vec<String>>,
}

/// Reads the config file: `explicit` (from `--config`), else the default location if a file
/// is there. `Ok(None)`: no config file applies.
///
/// # Errors
/// When `explicit` does not exist, a file exists but cannot be read, or it is invalid.
pub fn load(explicit: Option<&Path>) -> Result<Option<Config>, ConfigError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(None),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if required {
                Err(ConfigError::Missing { path })
            } else {
                Ok(None)
            }
        }
        Err(source) => Err(ConfigError::Read { path, source }),
    }
}

/// Parses and validates a config file's text; `path` names it in errors and anchors its
/// relative paths.
///
/// # Errors
/// [`ConfigError::Invalid`] with the line and key of the first problem.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let invalid = |at: Option<usize>, message: String| {
        let (line, column) = match at {
            Some(offset) => {
                let (l, c) = error::line_column(text, offset);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ConfigError::Invalid {
            key: at.and_then(|offset| error::key_at(text, offset)),
            path: path.clone(),
            line,
            column,
            message,
        }
    };
    let file: schema::File = toml::from_str(text).map_err(|e| {
        invalid(
            e.span().map(|span| span.start),
            e.message().trim_end().to_string(),
        )
    })?;
    if let Some((span, message)) = file.provider_claimed_twice() {
        return Err(invalid(Some(span.start), message));
    }
    let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    file.into_config(path, &base)
}

#[cfg(test)]
pub(crate) mod tests;
