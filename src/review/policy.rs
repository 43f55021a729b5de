//! The review policy: the `[review]` table of the config file, naming the kinds of change that
//! wait for a maintainer instead of being pushed.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A kind of change a human should look at before it reaches users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewKind {
    /// The package does not exist on the AUR yet.
    FirstPublication,
    /// `license=` differs from the published one.
    LicenseChange,
    /// A native library or program dependency the published package did not have.
    NewSystemDependency,
    /// The distribution now comes from a different auth than the published one.
    AuthChange,
    /// The source tarball is downloaded from somewhere other than the archive.
    SourceHost,
    /// What the package depends on changes to a different package: another stand-in, another
    /// ecosystem provider, or an AUR package raku-aur does not publish.
    DependencyChange,
    /// The first push to an AUR package our account adopted from another maintainer.
    Adoption,
}

impl ReviewKind {
    pub const ALL: [ReviewKind; 7] = [
        ReviewKind::FirstPublication,
        ReviewKind::LicenseChange,
        ReviewKind::NewSystemDependency,
        ReviewKind::AuthChange,
        ReviewKind::SourceHost,
        ReviewKind::DependencyChange,
        ReviewKind::Adoption,
    ];

    /// The name the config file uses (serde's kebab-case spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::FirstPublication => "first-publication",
            ReviewKind::LicenseChange => "license-change",
            ReviewKind::NewSystemDependency => "new-system-dependency",
            ReviewKind::AuthChange => "auth-change",
            ReviewKind::SourceHost => "source-host",
            ReviewKind::DependencyChange => "dependency-change",
            ReviewKind::Adoption => "adoption",
        }
    }
}

/// The `[review]` table of the config file. Without it the gate is off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReviewPolicy {
    /// The kinds of change that wait for review; every kind when left out.
    #[serde(default = "all_kinds")]
    pub changes: BTreeSet<ReviewKind>,
    /// URL prefixes that count as the archive for [`ReviewKind::SourceHost`].
    #[serde(default = "default_archive", deserialize_with = "archive_prefixes")]
    pub archive: Vec<String>,
}

/// Where the Raku Ecosystem Archive keeps every release's tarball.
pub const REA_ARCHIVE_PREFIX: &str = "https://raw.githubusercontent.com/raku/REA/main/archive/";

fn all_kinds() -> BTreeSet<ReviewKind> {
    ReviewKind::ALL.into_iter().collect()
}

fn default_archive() -> Vec<String> {
    vec![REA_ARCHIVE_PREFIX.to_string()]
}

/// `archive`: a typo here would send every package to review, so each entry must be an
/// http(s) URL prefix, and an empty list is refused.
fn archive_prefixes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let prefixes = Vec::<String>::deserialize(d)?;
    if prefixes.is_empty() {
        return Err(serde::de::Error::custom(
            "the archive list is empty; leave it out for the Raku Ecosystem Archive",
        ));
    }
    prefixes
        .into_iter()
        .map(crate::urls::check_url_prefix)
        .collect::<Result<_, _>>()
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_named_as_the_config_file_spells_it() {
        for kind in ReviewKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
    }
}
