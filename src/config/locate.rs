//! Where the config file is looked for when `--config` is not given.

use std::ffi::OsString;
use std::path::PathBuf;

/// The file name under the config directory.
const FILE_NAME: &str = "raku-aur/config.toml";

/// Where the config file is looked for when `--config` is not given: `$XDG_CONFIG_HOME` (only
/// if absolute, as the XDG spec asks), else `$HOME/.config`. `None` when neither is set.
pub fn default_path() -> Option<PathBuf> {
    default_path_from(
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

pub(super) fn default_path_from(xdg: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let base = xdg
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join(FILE_NAME))
}
