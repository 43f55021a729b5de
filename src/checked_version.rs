//! Versions written by strangers, checked before alpm-types compares them (or a log line or
//! commit message shows them).
//!
//! alpm-types 0.13 compares two pkgvers by cutting them into runs of digits and of letters and
//! parsing each digit run as a `usize` with `expect` (`version/comparison.rs`): a run above
//! `usize::MAX`, as in `provides=('raku-foo=100000000000000000000000')`, panics in whichever
//! comparison meets it first — `VersionRequirement::is_satisfied_by`, `Ord`, even `==`. Epoch
//! and pkgrel are read into `usize` when parsed, so a huge one is a parse error, not a panic.
//!
//! Every version that comes from the AUR (its metadata, a repository's `.SRCINFO`) goes through
//! here. Versions from the index need not: [`crate::raku::version::RakuVersion`] refuses
//! numbers above `i64::MAX`, which the assertion below keeps within `usize`.

use std::str::FromStr;

use alpm_types::{PackageVersion, Version};

use crate::text::escape_for_log;

// RakuVersion's bound (i64::MAX) must fit the usize alpm-types parses digit runs into.
const _: () = assert!(usize::BITS >= 64);

/// Why a stranger's version is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VersionRefusal {
    #[error("version {value} cannot be read: {reason}")]
    Invalid { value: String, reason: String },
    #[error(
        "version {value} has a number above {max}, which alpm-types cannot compare",
        max = usize::MAX
    )]
    NumberTooLarge { value: String },
    /// alpm-types takes ASCII control characters; a commit message or a log line must not.
    #[error("version {value} has a control character")]
    Control { value: String },
}

/// A full `[epoch:]pkgver[-pkgrel]` that alpm-types can compare with any other.
pub(crate) fn parse(text: &str) -> Result<Version, VersionRefusal> {
    let version = Version::from_str(text).map_err(|e| VersionRefusal::Invalid {
        value: escape_for_log(text),
        reason: crate::text::for_terminal(&e.to_string()),
    })?;
    check(version)
}

/// `version`, if alpm-types can compare it with any other.
pub(crate) fn check(version: Version) -> Result<Version, VersionRefusal> {
    check_pkgver(&version.pkgver)?;
    Ok(version)
}

/// Whether alpm-types can compare `pkgver` with any other — every run of digits (as its
/// comparison cuts them) must parse as a `usize` — and it can be shown as it is.
pub(crate) fn check_pkgver(pkgver: &PackageVersion) -> Result<(), VersionRefusal> {
    let text = pkgver.as_ref();
    let value = || escape_for_log(text);
    if text.chars().any(char::is_control) {
        return Err(VersionRefusal::Control { value: value() });
    }
    let fits = text
        .split(|c: char| !c.is_numeric())
        .all(|run| run.is_empty() || run.parse::<usize>().is_ok());
    if fits {
        Ok(())
    } else {
        Err(VersionRefusal::NumberTooLarge { value: value() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_that_panics_alpm_types_is_refused() {
        let huge = "100000000000000000000000";
        // What this module guards against, as alpm-types 0.13 does it.
        let compare = std::panic::catch_unwind(|| {
            let a = Version::from_str(huge).unwrap();
            let b = Version::from_str("1").unwrap();
            a > b
        });
        assert!(
            compare.is_err(),
            "alpm-types no longer panics: revisit this module"
        );
        assert_eq!(
            parse(huge),
            Err(VersionRefusal::NumberTooLarge {
                value: huge.to_string()
            })
        );
        assert!(parse(&format!("1.{huge}-1")).is_err());
        assert!(parse(&format!("1:2a{huge}b-1")).is_err());
    }

    #[test]
    fn numbers_up_to_usize_max_and_leading_zeros_are_fine() {
        let max = usize::MAX.to_string();
        for ok in [
            max.as_str(),
            "0000000000000000000000000001",
            "1.0",
            "2:1.2.3-4",
            "1.0rc1-2.1",
            "r1234.abcdef",
        ] {
            let v = parse(ok).unwrap();
            // Comparing each with itself and with a neighbour must not panic.
            assert!(v == v.clone());
            let _ = v.cmp(&Version::from_str("1.0-1").unwrap());
        }
        let above = format!("{}1", max);
        assert!(parse(&above).is_err());
    }

    #[test]
    fn huge_epochs_and_pkgrels_are_parse_errors_not_panics() {
        for bad in [
            "100000000000000000000000:1-1",
            "1-100000000000000000000000",
            "1-1.100000000000000000000000",
            "",
            "1 2",
            "a:b:c",
        ] {
            assert!(
                matches!(parse(bad), Err(VersionRefusal::Invalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn control_characters_are_refused_and_refusals_quote_the_value_safely() {
        for bad in [
            "1\u{1b}[31m".to_string(),
            format!("1\u{1b}{}", "9".repeat(30)),
            "1 \u{1b}[2J".to_string(),
            "1\u{7f}-1".to_string(),
        ] {
            let err = parse(&bad).unwrap_err().to_string();
            assert!(!err.contains(['\u{1b}', '\u{7f}']), "{err}");
        }
        assert!(matches!(
            parse("1.0\u{1b}[31m-1"),
            Err(VersionRefusal::Control { .. })
        ));
    }
}
