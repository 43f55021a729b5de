//! The review gate: which kinds of change wait for a maintainer instead of being pushed.

use std::collections::BTreeSet;

use serde::Deserialize;

/// A kind of change a human should look at before it reaches users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
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
}

impl ReviewKind {
    pub const ALL: [ReviewKind; 5] = [
        ReviewKind::FirstPublication,
        ReviewKind::LicenseChange,
        ReviewKind::NewSystemDependency,
        ReviewKind::AuthChange,
        ReviewKind::SourceHost,
    ];
}

/// The `[review]` table of the config file. Without it the gate is off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReviewPolicy {
    /// The kinds of change that wait for review; every kind when left out.
    #[serde(default = "all_kinds")]
    pub changes: BTreeSet<ReviewKind>,
    /// URL prefixes that count as the archive for [`ReviewKind::SourceHost`].
    #[serde(default = "default_archive")]
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
