//! `.SRCINFO` writer: byte-identical to `makepkg --printsrcinfo` for the PKGBUILD rendered from
//! the same [`PackageModel`].
//!
//! Mirrors makepkg 6.0.2's `srcinfo.sh`, and `tests/it/with_tools/srcinfo_oracle.rs` compares
//! the two byte for byte by running the real makepkg:
//!
//! - `pkgbase = NAME` first, written as is; then one `\tkey = value` line per scalar and one
//!   per array element, keys in makepkg's fixed order (not PKGBUILD order), elements in
//!   PKGBUILD order; then an empty line and `pkgname = NAME` with nothing under it, because we
//!   never override attributes in `package()`. Every line ends in `\n`.
//! - A scalar is left out when its value is empty (so `epoch = 0` is written), an array when it
//!   has no elements (an empty element still gives a `key = ` line).
//! - Each value goes through makepkg's whitespace rewrite: runs of `[[:space:]]` become one
//!   space, then one leading and one trailing space go. This writer does it for the `C`
//!   locale's `[[:space:]]` (space, TAB, LF, VT, FF, CR), which also keeps every value on its
//!   own line whatever the model holds; text from [`crate::render::shell::sanitize_line`] has
//!   no other whitespace, so the output is the same in a UTF-8 locale too.

use alpm_srcinfo::SourceInfoV1;
use thiserror::Error;

use crate::render::model::PackageModel;

/// Writes the `.SRCINFO` that `makepkg --printsrcinfo` prints for `m`'s PKGBUILD.
pub fn write_srcinfo(m: &PackageModel) -> String {
    let mut out = format!("pkgbase = {}\n", m.pkgname);
    scalar(&mut out, "pkgdesc", &m.pkgdesc);
    scalar(&mut out, "pkgver", m.pkgver.as_ref());
    scalar(&mut out, "pkgrel", &m.pkgrel.to_string());
    if let Some(epoch) = m.epoch {
        scalar(&mut out, "epoch", &epoch.to_string());
    }
    scalar(&mut out, "url", &m.url);
    array(&mut out, "arch", &m.arch);
    array(&mut out, "license", &m.license);
    array(&mut out, "checkdepends", &m.checkdepends);
    array(&mut out, "makedepends", &m.makedepends);
    array(&mut out, "depends", &m.depends);
    array(&mut out, "optdepends", &m.optdepends);
    array(&mut out, "provides", &m.provides);
    array(&mut out, "conflicts", &m.conflicts);
    array(&mut out, "source", &m.source);
    array(&mut out, "sha256sums", &m.sha256sums);
    out.push_str(&format!("\npkgname = {}\n", m.pkgname));
    out
}

fn scalar(out: &mut String, key: &str, value: &str) {
    if !value.is_empty() {
        attr(out, key, value);
    }
}

fn array<T: ToString>(out: &mut String, key: &str, values: &[T]) {
    for value in values {
        attr(out, key, &value.to_string());
    }
}

fn attr(out: &mut String, key: &str, value: &str) {
    out.push('\t');
    out.push_str(key);
    out.push_str(" = ");
    out.push_str(&collapse_space(value));
    out.push('\n');
}

/// makepkg's `${v//+([[:space:]])/ }`, `${v#[[:space:]]}`, `${v%[[:space:]]}` in the `C` locale:
/// after the first step at most one space is left at each end, so this is "words joined by one
/// space".
fn collapse_space(value: &str) -> String {
    value
        .split([' ', '\t', '\n', '\x0B', '\x0C', '\r'])
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a `.SRCINFO` text is not one we may publish.
#[derive(Debug, Error)]
pub enum SrcinfoError {
    /// The Arch project's parser (`alpm-srcinfo`) rejects it.
    #[error("alpm-srcinfo rejects the .SRCINFO: {0}")]
    Parse(#[from] alpm_srcinfo::Error),
    /// We never split packages, so there must be exactly one `pkgname` section.
    #[error("expected exactly one pkgname section, found {0}")]
    PackageCount(usize),
    /// The single `pkgname` differs from `pkgbase`.
    #[error("pkgbase {pkgbase} differs from pkgname {pkgname}")]
    NameMismatch {
        /// The `pkgbase` value.
        pkgbase: String,
        /// The `pkgname` value.
        pkgname: String,
    },
}

/// Checks `text` with `alpm-srcinfo`, the parser the AUR's push hook uses, and checks that it
/// describes one package whose `pkgname` equals its `pkgbase`.
pub fn validate_srcinfo(text: &str) -> Result<(), SrcinfoError> {
    let parsed = SourceInfoV1::from_string(text)?;
    let [package] = parsed.packages.as_slice() else {
        return Err(SrcinfoError::PackageCount(parsed.packages.len()));
    };
    if package.name != parsed.base.name {
        return Err(SrcinfoError::NameMismatch {
            pkgbase: parsed.base.name.to_string(),
            pkgname: package.name.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_matches_makepkg_rewrite() {
        assert_eq!(collapse_space("a b"), "a b");
        assert_eq!(collapse_space("  a \t\n b  "), "a b");
        assert_eq!(collapse_space("\r\x0B\x0C"), "");
        assert_eq!(collapse_space(" "), "");
        // Only ASCII whitespace is the C locale's [[:space:]].
        assert_eq!(collapse_space("a\u{3000}b\u{A0}"), "a\u{3000}b\u{A0}");
    }

    #[test]
    fn validate_rejects_mismatch_and_split_packages() {
        let base = "pkgbase = raku-a\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = any\n\n";
        assert!(validate_srcinfo(&format!("{base}pkgname = raku-a\n")).is_ok());
        assert!(matches!(
            validate_srcinfo(&format!("{base}pkgname = raku-b\n")),
            Err(SrcinfoError::NameMismatch { .. })
        ));
        assert!(matches!(
            validate_srcinfo(&format!("{base}pkgname = raku-a\n\npkgname = raku-b\n")),
            Err(SrcinfoError::PackageCount(2))
        ));
        assert!(matches!(
            validate_srcinfo("pkgbase = raku-a\n\tpkgver = 1:2\n"),
            Err(SrcinfoError::Parse(_))
        ));
    }
}
