//! The validated, render-ready description of one AUR package.
//!
//! Everything in here has already been checked or sanitised by the planner: names and versions
//! are `alpm-types` values, free text has no control characters. The PKGBUILD template and the
//! `.SRCINFO` writer both read this one model, so the two files cannot disagree.

use alpm_types::{Name, PackageRelation, PackageRelease, PackageVersion};

/// One package, ready to be written as a PKGBUILD and a `.SRCINFO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageModel {
    /// `pkgbase` and `pkgname` (we never split packages).
    pub pkgname: Name,
    pub pkgver: PackageVersion,
    pub pkgrel: PackageRelease,
    /// `None` means no `epoch=` line at all.
    pub epoch: Option<u64>,
    /// One line, no control characters, whitespace runs collapsed, trimmed, non-empty.
    pub pkgdesc: String,
    /// An http(s) URL whose characters are all in `crate::render::shell::is_url_safe`.
    pub url: String,
    /// `any`, or `x86_64` for distributions that build native code.
    pub arch: Vec<String>,
    /// SPDX identifiers (or `LicenseRef-*`), as they go into `license=()`.
    pub license: Vec<String>,
    pub depends: Vec<PackageRelation>,
    pub makedepends: Vec<PackageRelation>,
    pub checkdepends: Vec<PackageRelation>,
    /// `name: reason` strings; the reason is sanitised free text.
    pub optdepends: Vec<String>,
    /// `raku-<name>=<pkgver>` when the package keeps an adopted name (see
    /// `crate::plan::OnAur::adopted`), so that helpers find it under ours too.
    pub provides: Vec<PackageRelation>,
    pub conflicts: Vec<PackageRelation>,
    /// `localname::url`.
    pub source: Vec<String>,
    pub sha256sums: Vec<String>,
    /// Text for the PKGBUILD alone; `.SRCINFO` does not carry it.
    pub build: BuildSteps,
}

/// What `prepare`/`check`/`package` need to know; only in the PKGBUILD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSteps {
    /// The distribution as Raku names it, e.g. `JSON::Fast:ver<0.21.0>:auth<zef:timo>`,
    /// sanitised for a comment line.
    pub dist: String,
    /// The directory the tarball unpacks into (validated: a plain file name).
    pub source_dir: String,
    /// Test files or directories to hand to `prove` (validated relative paths); empty: no `check()`.
    pub tests: Vec<String>,
    /// Scripts from `bin/` (validated file names) to link into `/usr/bin`.
    pub bin_scripts: Vec<String>,
    /// License files (validated relative paths) to install under `/usr/share/licenses/$pkgname/`.
    pub license_files: Vec<String>,
    /// `Name <email>` for the `# Maintainer:` line, sanitised.
    pub maintainer: String,
}
