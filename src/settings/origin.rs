//! Where a setting's value came from, as `check-config` shows it next to the value.

use std::fmt;

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Config,
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "from the command line",
            Origin::Config => "from the config file",
            Origin::Default => "built-in default",
        })
    }
}

/// One setting in effect, as `check-config` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The config file's key.
    pub key: String,
    /// The value, TOML-quoted where it is text.
    pub value: String,
    pub origin: Origin,
}
