//! Raku `Version` values: parsing, ordering and matching as Rakudo does, and pkgver mapping.
//!
//! # What Rakudo does (measured with Rakudo 2022.12)
//!
//! `Version.new(Str)` cuts the string into parts: a run of digits is an integer part, a run of
//! letters or `_` is a string part, each `*` is a Whatever part, and every other character only
//! separates parts. A trailing `+` sets `plus`. `.Str` joins the parts with `.` (digits as
//! written, so `1.001006` stays `1.001006`) and appends `+` if `plus` is set.
//!
//! `cmp` walks both part lists, padding the shorter one with the integer `0`. Integers compare
//! numerically, strings by code point, Whatever counts as the string `*`, and any string is less
//! than any integer. So `1.0 cmp 1.0.0` is `Same`, `1.0.a < 1.0`, `bellona < 0.1`,
//! `v1.0 < 0.9`, `1.* < 1`. Only when all parts tie does `plus` decide (`1.2 < 1.2+`);
//! [`RakuVersion::raku_cmp`] leaves that tie-break out because a trailing `+` on a release
//! version does not make it a different release.
//!
//! `ACCEPTS` (how `:ver<...>` matches a release) compares the pattern's parts with the same
//! positions of the candidate, padding the candidate with `0`; positions past the pattern's end
//! and Whatever parts on either side match anything. At the first difference, a smaller
//! candidate part rejects, a larger one accepts only if the pattern has `plus`. That comparison
//! is Raku's general `cmp`, not the one above: there a string part is *greater* than an
//! integer part, so `1.2+` accepts `1.a` although `1.a cmp 1.2` is `Less`.
//!
//! Rakudo also takes non-ASCII letters and digits as parts; we reject any non-ASCII character
//! instead of guessing at Unicode classes. Rakudo 2022.12 stores an integer part in 64 bits
//! and silently wraps larger ones, so we reject integers above `i64::MAX` too.
//!
//! # pkgver mapping
//!
//! pacman orders pkgvers with rpmvercmp: digit runs compare as numbers, letter runs as strings,
//! a digit run beats a letter run, more separators in front of a run win, and when one side
//! runs out, the rest of the other side makes it older if the rest starts with a letter and
//! newer otherwise. [`RakuVersion::to_pkgver`] writes a pkgver whose vercmp order is exactly
//! Raku's `cmp` order (equality included) on this domain:
//!
//! - no Whatever part, and string parts made of ASCII letters only (pacman reads `_` as a
//!   separator);
//! - after dropping trailing zero integers, string parts only come first and/or last, and a
//!   last string part (not also the first) directly follows a non-zero integer. `1.0.beta`
//!   is out: Raku puts it below `1`, but pacman would put `1.0beta` above `1`.
//!
//! Canonical form, which makes Raku-equal versions produce pkgvers that vercmp calls equal:
//! drop trailing zero integers (keeping one part), write integers as upstream wrote them
//! (both sides ignore leading zeros), put a `.` between two integers and nothing next to a
//! string part, and if exactly one integer is left and it ends the version, append `.0`. So
//! `1.0.0` and `1` give `1.0`, `0.6.0+` gives `0.6`, `1.001006` stays `1.001006`, `v0.1.0`
//! gives `v0.1`, `0.3.1alpha` stays `0.3.1alpha`. The
//! `.0` reads like the usual `major.minor` and changes no order: the only canonical pkgvers
//! that extend `N.0` continue it with a separator and a digit, so are newer either way, and
//! against `Nx` (a letter) `N.0` wins by its separator just as `N` wins by ending first.
//!
//! A dependency `Foo:ver<p+>` written as `>= pkgver(p)` is exact except where a letter part
//! meets a number part, since `ACCEPTS` ranks the letter higher and ignores what follows the
//! pattern. For a pattern of numbers only Rakudo then accepts more: `1.2+` accepts `1.a` and
//! `1.2beta`, `>=1.2` does not. A pattern with a letter part can also refuse more: `1.a+`
//! refuses `1.2`, `>=1a` takes it. The test
//! `ge_pkgver_matches_plus_pattern_except_letter_against_number` pins the exact set.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use alpm_types::PackageVersion;

/// Why a string is not a version we handle, or why a version has no pkgver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("version `{input}` has no parts")]
    Empty { input: String },
    #[error("version `{input}` contains non-ASCII characters, which raku-aur does not accept")]
    NonAscii { input: String },
    #[error("version `{input}` has a number above {I64_MAX}, which Rakudo wraps around")]
    TooLarge { input: String },
    #[error("version `{version}` has a `*` part, which no single pkgver can stand for")]
    Whatever { version: String },
    #[error("version `{version}` has a `_` in a letter part, which pacman reads as a separator")]
    Underscore { version: String },
    #[error(
        "version `{version}` has a letter part in the middle, which pacman cannot order as Raku does"
    )]
    LetterInMiddle { version: String },
    #[error(
        "version `{version}` has a letter part after a letter part, which pacman cannot order as Raku does"
    )]
    LetterAfterLetter { version: String },
    #[error(
        "version `{version}` has a letter part after a zero, which pacman cannot order as Raku does"
    )]
    LetterAfterZero { version: String },
}

/// One part of a [`RakuVersion`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Part {
    /// ASCII digits as written (any number of leading zeros), at most `i64::MAX`; compared
    /// as a number.
    Int(String),
    /// ASCII letters and `_`.
    Str(String),
    /// `*`.
    Whatever,
}

impl Part {
    fn is_zero(&self) -> bool {
        matches!(self, Part::Int(digits) if digits.bytes().all(|b| b == b'0'))
    }
}

/// A Raku `Version` as Rakudo's `Version.new(Str)` reads it.
///
/// `==` is structural, like Raku's `eqv` (`1.0` and `1.0.0` differ); use
/// [`RakuVersion::raku_cmp`] for Raku's `cmp`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RakuVersion {
    parts: Vec<Part>,
    plus: bool,
}

/// Rakudo 2022.12 reads integer parts into a native 64-bit integer, so larger ones wrap
/// (`18446744073709551615` becomes `-1`) and compare as garbage.
const I64_MAX: &str = "9223372036854775807";

/// Numeric order of two digit strings, without parsing them, so leading zeros cannot overflow.
fn int_cmp(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Rakudo's `Version` `cmp` on one position; `None` is the `0` padding.
fn version_part_cmp(a: Option<&Part>, b: Option<&Part>) -> Ordering {
    // Whatever is stored as the string "*", below every letter and `_` in code point order.
    fn key(part: Option<&Part>) -> (u8, &str) {
        match part {
            None => (1, "0"),
            Some(Part::Int(digits)) => (1, digits),
            Some(Part::Str(s)) => (0, s),
            Some(Part::Whatever) => (0, "*"),
        }
    }
    let (ka, sa) = key(a);
    let (kb, sb) = key(b);
    ka.cmp(&kb)
        .then_with(|| if ka == 1 { int_cmp(sa, sb) } else { sa.cmp(sb) })
}

impl RakuVersion {
    /// The parts, in order.
    #[cfg(test)]
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Whether the version ends in `+`.
    pub fn plus(&self) -> bool {
        self.plus
    }

    /// Whether every part is `*`, so that as a pattern it accepts any version.
    #[cfg(test)]
    pub fn is_whatever(&self) -> bool {
        self.parts.iter().all(|p| *p == Part::Whatever)
    }

    /// Whether any part is `*`.
    pub fn has_whatever(&self) -> bool {
        self.parts.contains(&Part::Whatever)
    }

    /// Rakudo's `cmp`, without its final tie-break on `plus`.
    pub fn raku_cmp(&self, other: &Self) -> Ordering {
        let len = self.parts.len().max(other.parts.len());
        (0..len)
            .map(|i| version_part_cmp(self.parts.get(i), other.parts.get(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// Rakudo's `ACCEPTS`: whether `candidate` satisfies `self` used as a `:ver<...>` pattern.
    pub fn accepts(&self, candidate: &Self) -> bool {
        let zero = Part::Int("0".to_owned());
        for (i, want) in self.parts.iter().enumerate() {
            let have = candidate.parts.get(i).unwrap_or(&zero);
            // Raku's general `cmp`: a mixed pair compares as strings, and a letter or `_`
            // sorts above every digit.
            let order = match (have, want) {
                (Part::Whatever, _) | (_, Part::Whatever) => continue,
                (Part::Int(x), Part::Int(y)) => int_cmp(x, y),
                (Part::Str(x), Part::Str(y)) => x.cmp(y),
                (Part::Str(_), Part::Int(_)) => Ordering::Greater,
                (Part::Int(_), Part::Str(_)) => Ordering::Less,
            };
            match order {
                Ordering::Greater => return self.plus,
                Ordering::Less => return false,
                Ordering::Equal => {}
            }
        }
        true
    }

    /// The pkgver whose vercmp order matches [`RakuVersion::raku_cmp`]; see the module doc
    /// for the domain and the canonical form. `plus` is ignored.
    pub fn to_pkgver(&self) -> Result<PackageVersion, VersionError> {
        let err = |make: fn(String) -> VersionError| Err(make(self.to_string()));
        let mut end = self.parts.len();
        while end > 1 && self.parts[end - 1].is_zero() {
            end -= 1;
        }
        let parts = &self.parts[..end];
        let mut out = String::new();
        for (i, part) in parts.iter().enumerate() {
            let prev = i.checked_sub(1).map(|p| &parts[p]);
            match part {
                Part::Whatever => return err(|version| VersionError::Whatever { version }),
                Part::Int(digits) => {
                    if let Some(Part::Int(_)) = prev {
                        out.push('.');
                    }
                    // As written: vercmp ignores leading zeros too, and `1.001006` should
                    // read as upstream wrote it.
                    out.push_str(digits);
                }
                Part::Str(s) => {
                    if s.contains('_') {
                        return err(|version| VersionError::Underscore { version });
                    }
                    match prev {
                        None => {}
                        Some(_) if i + 1 < parts.len() => {
                            return err(|version| VersionError::LetterInMiddle { version });
                        }
                        Some(Part::Str(_)) => {
                            return err(|version| VersionError::LetterAfterLetter { version });
                        }
                        Some(p) if p.is_zero() => {
                            return err(|version| VersionError::LetterAfterZero { version });
                        }
                        Some(_) => {}
                    }
                    out.push_str(s);
                }
            }
        }
        let ints = parts.iter().filter(|p| matches!(p, Part::Int(_))).count();
        if ints == 1 && matches!(parts.last(), Some(Part::Int(_))) {
            out.push_str(".0");
        }
        // Non-empty and only [A-Za-z0-9.], which alpm-pkgver always accepts.
        Ok(PackageVersion::from_str(&out).expect("canonical pkgver is valid alpm-pkgver"))
    }
}

impl FromStr for RakuVersion {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if !input.is_ascii() {
            return Err(VersionError::NonAscii {
                input: input.to_owned(),
            });
        }
        let bytes = input.as_bytes();
        let is_letter = |b: u8| b.is_ascii_alphabetic() || b == b'_';
        let mut parts = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            let b = bytes[i];
            if b == b'*' {
                parts.push(Part::Whatever);
                i += 1;
            } else if b.is_ascii_digit() {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = &input[start..i];
                if int_cmp(digits, I64_MAX).is_gt() {
                    return Err(VersionError::TooLarge {
                        input: input.to_owned(),
                    });
                }
                parts.push(Part::Int(digits.to_owned()));
            } else if is_letter(b) {
                while i < bytes.len() && is_letter(bytes[i]) {
                    i += 1;
                }
                parts.push(Part::Str(input[start..i].to_owned()));
            } else {
                i += 1;
            }
        }
        if parts.is_empty() {
            return Err(VersionError::Empty {
                input: input.to_owned(),
            });
        }
        Ok(RakuVersion {
            parts,
            plus: input.ends_with('+'),
        })
    }
}

/// Rakudo's `.Str`.
impl fmt::Display for RakuVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match part {
                Part::Int(s) | Part::Str(s) => f.write_str(s)?,
                Part::Whatever => f.write_str("*")?,
            }
        }
        if self.plus {
            f.write_str("+")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::io::Write;
    use std::process::Command;

    use super::*;

    fn v(s: &str) -> RakuVersion {
        s.parse()
            .unwrap_or_else(|e| panic!("`{s}` should parse: {e}"))
    }

    fn int(s: &str) -> Part {
        Part::Int(s.to_owned())
    }

    fn st(s: &str) -> Part {
        Part::Str(s.to_owned())
    }

    fn ord_char(o: Ordering) -> char {
        match o {
            Ordering::Less => '<',
            Ordering::Equal => '=',
            Ordering::Greater => '>',
        }
    }

    /// `(distribution name, version string)` for every META6 entry in `tests/data/*.json`.
    fn data_versions() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
        let mut out = Vec::new();
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("tests/data is readable")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("data file is readable");
            let json: serde_json::Value = serde_json::from_str(&text).expect("data file is JSON");
            // Provenance files are objects, and the AUR metadata has `Name`, not `name`.
            let Some(entries) = json.as_array() else {
                continue;
            };
            for entry in entries {
                let Some(name) = entry.get("name").and_then(|n| n.as_str()) else {
                    continue;
                };
                let ver = entry.get("version").or_else(|| entry.get("ver"));
                if let Some(ver) = ver.and_then(|v| v.as_str()) {
                    out.push((name.to_owned(), ver.to_owned()));
                }
            }
        }
        assert!(
            out.len() > 3000,
            "expected the META6 data sets, found {} entries",
            out.len()
        );
        out
    }

    fn distinct_data_versions() -> BTreeSet<String> {
        data_versions().into_iter().map(|(_, ver)| ver).collect()
    }

    /// Versions chosen to hit Rakudo's corners: padding, leading zeros, letters, `_`,
    /// Whatever, `+`, huge numbers, odd separators.
    const TRICKY: &[&str] = &[
        "1.0",
        "1.0.0",
        "1.0.a",
        "1.0a",
        "1.01",
        "1.1",
        "1.001006",
        "1.3",
        "0.9",
        "v1.0",
        "1.*",
        "1.2.*",
        "*.*",
        "*.0",
        "1*2",
        "a*",
        "1.2+",
        "1.2.0+",
        "*+",
        "1_2",
        "_",
        "_a",
        "A",
        "Z",
        "a",
        "aa",
        "b",
        "Beta",
        "beta",
        "1.2a3",
        "1.2.a.3",
        "v0.11",
        "1-2",
        "1..2",
        ".1",
        "1.",
        "007",
        "0",
        "0.0",
        "00.000",
        "1.0-beta",
        "1.0.0-rc1",
        "2.0.0-beta.2",
        "1.2beta",
        "1.2.beta",
        "1.a",
        "1.b",
        "1.A",
        "v",
        "v0",
        "v0.0",
        "v1.a",
        "1.2.3.4.5.6",
        "9223372036854775807",
        "09223372036854775806.1",
        "0.9223372036854775807",
        "00000000000000000000000000001",
        "1 2",
        "1/2",
        "x.1.y",
        "2022.12",
        "6.d",
        "6.e.PREVIEW",
        "1.0+",
        "0.8.10",
        "0.19",
        "0.2",
        "0.20",
        "0.19.1",
        "1+2",
        "1.2+.3",
        "1.2.+",
        "a-b",
    ];

    /// Patterns for `ACCEPTS`, besides every version as is and with `+`.
    const PATTERNS: &[&str] = &[
        "*", "1", "1+", "1.*", "1.2.*", "1.2.*+", "*.2", "1.*.3", "0.19", "0.19+", "0.8.10+",
        "1.0+", "1.2+", "1.2", "1.2.0", "1.2.0+", "1.2.a", "1.2.a+", "1.a+", "v1+", "v1", "a",
        "a+", "0+", "0", "0.0", "1.0.0.0+", "bellona+", "_+", "**+",
    ];

    #[test]
    fn parses_like_rakudo() {
        let cases: &[(&str, &[Part], bool)] = &[
            ("0.0.3", &[int("0"), int("0"), int("3")], false),
            ("1.2a3", &[int("1"), int("2"), st("a"), int("3")], false),
            ("v0.11", &[st("v"), int("0"), int("11")], false),
            ("1-2", &[int("1"), int("2")], false),
            ("1_2", &[int("1"), st("_"), int("2")], false),
            ("1.001006", &[int("1"), int("001006")], false),
            ("0.6.0+", &[int("0"), int("6"), int("0")], true),
            ("1.2+.3", &[int("1"), int("2"), int("3")], false),
            ("1.2.+", &[int("1"), int("2")], true),
            ("*", &[Part::Whatever], false),
            ("1*2", &[int("1"), Part::Whatever, int("2")], false),
            ("**", &[Part::Whatever, Part::Whatever], false),
            ("0.7.Draft", &[int("0"), int("7"), st("Draft")], false),
            ("bellona", &[st("bellona")], false),
        ];
        for (input, parts, plus) in cases {
            let ver = v(input);
            assert_eq!(ver.parts(), *parts, "parts of `{input}`");
            assert_eq!(ver.plus(), *plus, "plus of `{input}`");
        }
    }

    #[test]
    fn rejects_empty_non_ascii_and_too_large() {
        for input in ["", "+", "...", "-", "²"] {
            let err = input.parse::<RakuVersion>().unwrap_err();
            let expected = if input.is_ascii() {
                VersionError::Empty {
                    input: input.to_owned(),
                }
            } else {
                VersionError::NonAscii {
                    input: input.to_owned(),
                }
            };
            assert_eq!(err, expected, "`{input}`");
        }
        for input in [
            "9223372036854775808",
            "1.18446744073709551615",
            "1.99999999999999999999999",
        ] {
            assert_eq!(
                input.parse::<RakuVersion>().unwrap_err(),
                VersionError::TooLarge {
                    input: input.to_owned()
                }
            );
        }
        for input in ["1.é", "β1", "١٢", "１２", "1–2"] {
            assert_eq!(
                input.parse::<RakuVersion>().unwrap_err(),
                VersionError::NonAscii {
                    input: input.to_owned()
                }
            );
        }
    }

    #[test]
    fn displays_as_rakudo_str() {
        let cases = [
            ("1.001006", "1.001006"),
            ("v0.11", "v.0.11"),
            ("1-2", "1.2"),
            ("1.2a3", "1.2.a.3"),
            ("0.6.0+", "0.6.0+"),
            ("1.2.+", "1.2+"),
            ("1.2+.3", "1.2.3"),
            ("1*2", "1.*.2"),
            (".1", "1"),
            ("0007.0", "0007.0"),
        ];
        for (input, shown) in cases {
            assert_eq!(v(input).to_string(), shown, "`{input}`");
        }
    }

    #[test]
    fn compares_like_rakudo() {
        use Ordering::*;
        let cases = [
            ("1.0", "1.0.0", Equal),
            ("1.0.a", "1.0", Less),
            ("1.0a", "1.0.a", Equal),
            ("1.01", "1.1", Equal),
            ("1.001006", "1.3", Greater),
            ("bellona", "0.1", Less),
            ("v1.0", "0.9", Less),
            ("1.*", "1", Less),
            ("*", "a", Less),
            ("*", "*", Equal),
            ("a", "B", Greater),
            ("A", "_", Less),
            ("_", "a", Less),
            ("b", "aa", Greater),
            ("1.2+", "1.2", Equal),
            ("0.9223372036854775807", "0.9223372036854775806", Greater),
            ("00000000000000000000001", "1", Equal),
        ];
        for (a, b, expected) in cases {
            assert_eq!(v(a).raku_cmp(&v(b)), expected, "`{a}` cmp `{b}`");
            assert_eq!(v(b).raku_cmp(&v(a)), expected.reverse(), "`{b}` cmp `{a}`");
        }
    }

    #[test]
    fn accepts_like_rakudo() {
        let cases = [
            ("0.19", "0.19", true),
            ("0.19", "0.19.0", true),
            ("0.19", "0.19.1", true),
            ("0.19", "0.2", false),
            ("0.19", "0.20", false),
            ("1.0+", "1.0a", true),
            ("0.8.10+", "0.19", true),
            ("0.8.10+", "0.8.9", false),
            ("1.*", "1.7", true),
            ("1.*", "2.0", false),
            ("1.2.*", "1.2.5", true),
            ("*", "bellona", true),
            ("1.2", "*", false),
            ("1", "*", true),
            ("1.2.0", "1.2", true),
            ("1.2.3", "1.2", false),
            ("1.2.a", "1.2", false),
            ("1.2+", "1.a", true),
            ("1.2", "1.a", false),
            ("v1+", "1", false),
            ("1+", "v1", true),
            ("a", "a.b", true),
        ];
        for (pattern, candidate, expected) in cases {
            assert_eq!(
                v(pattern).accepts(&v(candidate)),
                expected,
                "`{pattern}` ACCEPTS `{candidate}`"
            );
        }
    }

    #[test]
    fn whatever_flags() {
        assert!(v("*").is_whatever() && v("*").has_whatever());
        assert!(v("*.*").is_whatever());
        assert!(!v("1.*").is_whatever() && v("1.*").has_whatever());
        assert!(!v("1.2").is_whatever() && !v("1.2").has_whatever());
    }

    #[test]
    fn pkgver_canonical_form() {
        let cases = [
            ("0.0.3", "0.0.3"),
            ("1", "1.0"),
            ("1.0.0", "1.0"),
            ("0", "0.0"),
            ("0.0.0", "0.0"),
            ("1.2.0", "1.2"),
            ("0.6.0+", "0.6"),
            ("1.001006", "1.001006"),
            ("007.010", "007.010"),
            ("v0.1.0", "v0.1"),
            ("v1.02", "v1.02"),
            ("v1", "v1.0"),
            ("v0.0", "v"),
            ("bellona", "bellona"),
            ("0.7.Draft", "0.7Draft"),
            ("0.3.1alpha", "0.3.1alpha"),
            ("3.9.O", "3.9O"),
            ("1.a.0", "1a"),
            ("9223372036854775807.01", "9223372036854775807.01"),
        ];
        for (input, expected) in cases {
            let pkgver = v(input).to_pkgver().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(pkgver.to_string(), expected, "pkgver of `{input}`");
        }
    }

    #[test]
    fn pkgver_rejects_outside_domain() {
        let whatever = |version: &str| VersionError::Whatever {
            version: version.to_owned(),
        };
        let cases = [
            ("*", whatever("*")),
            ("1.*", whatever("1.*")),
            (
                "1.0-beta",
                VersionError::LetterAfterZero {
                    version: "1.0.beta".to_owned(),
                },
            ),
            (
                "1.2a3",
                VersionError::LetterInMiddle {
                    version: "1.2.a.3".to_owned(),
                },
            ),
            (
                "v.a",
                VersionError::LetterAfterLetter {
                    version: "v.a".to_owned(),
                },
            ),
            (
                "1.rc_",
                VersionError::Underscore {
                    version: "1.rc_".to_owned(),
                },
            ),
            (
                "_",
                VersionError::Underscore {
                    version: "_".to_owned(),
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(v(input).to_pkgver().unwrap_err(), expected, "`{input}`");
        }
        assert_eq!(
            v("1.0-beta").to_pkgver().unwrap_err().to_string(),
            "version `1.0.beta` has a letter part after a zero, which pacman cannot order as Raku does"
        );
    }

    fn assert_pkgver_order(pairs: &[(&RakuVersion, &RakuVersion)]) {
        for (a, b) in pairs {
            let (pa, pb) = (a.to_pkgver().unwrap(), b.to_pkgver().unwrap());
            assert_eq!(
                pa.cmp(&pb),
                a.raku_cmp(b),
                "vercmp `{pa}` `{pb}` disagrees with Raku `{a}` cmp `{b}`"
            );
        }
    }

    #[test]
    fn pkgver_order_matches_raku_within_each_distribution() {
        let mut by_name: BTreeMap<String, Vec<RakuVersion>> = BTreeMap::new();
        for (name, ver) in data_versions() {
            let ver = v(&ver);
            if ver.to_pkgver().is_ok() {
                by_name.entry(name).or_default().push(ver);
            }
        }
        let mut pairs = Vec::new();
        for versions in by_name.values() {
            for a in versions {
                for b in versions {
                    pairs.push((a, b));
                }
            }
        }
        assert!(pairs.len() > 10_000, "only {} pairs", pairs.len());
        assert_pkgver_order(&pairs);
    }

    /// Every part list of length 1 to 4 over a few numbers and words, in the pkgver domain.
    fn universe() -> Vec<RakuVersion> {
        const ATOMS: &[&str] = &["0", "00", "1", "2", "10", "a", "b", "beta", "v"];
        let mut all: Vec<Vec<&str>> = vec![vec![]];
        let mut out = Vec::new();
        for _ in 0..4 {
            all = all
                .iter()
                .flat_map(|prefix| {
                    ATOMS.iter().map(move |atom| {
                        let mut next = prefix.clone();
                        next.push(*atom);
                        next
                    })
                })
                .collect();
            out.extend(all.iter().map(|parts| v(&parts.join("."))));
        }
        out.retain(|ver| ver.to_pkgver().is_ok());
        out
    }

    #[test]
    fn pkgver_order_matches_raku_on_generated_universe() {
        let versions = universe();
        assert!(
            versions.len() > 1000,
            "domain too small: {}",
            versions.len()
        );
        let pkgvers: Vec<_> = versions
            .iter()
            .map(|ver| ver.to_pkgver().unwrap())
            .collect();
        for (a, pa) in versions.iter().zip(&pkgvers) {
            let text = pa.to_string();
            assert!(
                text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'),
                "pkgver `{text}` of `{a}` has a character outside [A-Za-z0-9.]"
            );
            for (b, pb) in versions.iter().zip(&pkgvers) {
                assert_eq!(
                    pa.cmp(pb),
                    a.raku_cmp(b),
                    "vercmp `{pa}` `{pb}` disagrees with Raku `{a}` cmp `{b}`"
                );
            }
        }
    }

    #[test]
    fn real_versions_outside_domain_are_only_whatever() {
        let data = data_versions();
        let outside: Vec<_> = data
            .iter()
            .filter(|(_, ver)| v(ver).to_pkgver().is_err())
            .collect();
        let distinct: BTreeSet<&str> = outside.iter().map(|(_, ver)| ver.as_str()).collect();
        println!(
            "{} of {} real versions are outside the pkgver domain: {distinct:?}",
            outside.len(),
            data.len()
        );
        assert_eq!(distinct, BTreeSet::from(["*"]));
        assert_eq!(outside.len(), 110);
    }

    /// Where `p+` (Rakudo) and `>= pkgver(p)` (pacman) part ways: `ACCEPTS` ranks a letter
    /// part above a number part and ignores what follows the pattern, `cmp` does neither.
    #[test]
    fn ge_pkgver_matches_plus_pattern_except_letter_against_number() {
        let versions = universe();
        let zero = Part::Int("0".to_owned());
        let mixed = |a: &Part, b: &Part| matches!(a, Part::Str(_)) != matches!(b, Part::Str(_));
        let pkgvers: Vec<_> = versions
            .iter()
            .map(|ver| ver.to_pkgver().unwrap())
            .collect();
        let mut differing = 0;
        for (p, floor) in versions.iter().zip(&pkgvers) {
            let pattern = RakuVersion {
                parts: p.parts.clone(),
                plus: true,
            };
            let len = p.parts().len();
            for (c, pkgver) in versions.iter().zip(&pkgvers) {
                let have = |i: usize| c.parts().get(i).unwrap_or(&zero);
                let first_difference = (0..len)
                    .find(|&i| version_part_cmp(Some(have(i)), Some(&p.parts()[i])).is_ne());
                let expect_differ = match first_difference {
                    Some(i) => mixed(have(i), &p.parts()[i]),
                    None => matches!(c.parts().get(len), Some(Part::Str(_))),
                };
                let (raku, pacman) = (pattern.accepts(c), pkgver >= floor);
                assert_eq!(
                    raku != pacman,
                    expect_differ,
                    "`{pattern}` ACCEPTS `{c}` is {raku}, pacman `>={floor}` says {pacman}"
                );
                differing += usize::from(expect_differ);
            }
        }
        assert!(differing > 0);
        for (pattern, candidate, accepted) in [
            ("1.2+", "1.a", true),
            ("1.2+", "1.2beta", true),
            ("1.a+", "1.2", false),
        ] {
            assert_eq!(v(pattern).accepts(&v(candidate)), accepted);
            let floor = v(pattern).to_pkgver().unwrap();
            assert_eq!(v(candidate).to_pkgver().unwrap() >= floor, !accepted);
        }
    }

    fn run(cmd: &mut Command, what: &str) -> String {
        let out = cmd.output().unwrap_or_else(|e| {
            panic!("cannot run {what} ({e}); this test needs it installed (CI installs it)")
        });
        assert!(
            out.status.success(),
            "{what} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    #[test]
    fn pkgver_order_matches_vercmp_binary() {
        let mut versions: Vec<RakuVersion> = distinct_data_versions()
            .iter()
            .map(|s| v(s))
            .chain(universe().into_iter().step_by(7))
            .filter(|ver| ver.to_pkgver().is_ok())
            .collect();
        versions.sort_by(RakuVersion::raku_cmp);
        // Neighbours in Raku order are the pairs most likely to expose a wrong mapping.
        let pairs: Vec<_> = versions.windows(2).map(|w| (&w[0], &w[1])).collect();
        assert!(pairs.len() > 300, "only {} pairs", pairs.len());
        for (a, b) in pairs {
            let (pa, pb) = (a.to_pkgver().unwrap(), b.to_pkgver().unwrap());
            let out = run(
                Command::new("vercmp")
                    .arg(pa.to_string())
                    .arg(pb.to_string()),
                "pacman's `vercmp`",
            );
            let expected = match a.raku_cmp(b) {
                Ordering::Less => "-1",
                Ordering::Equal => "0",
                Ordering::Greater => "1",
            };
            assert_eq!(
                out.trim(),
                expected,
                "vercmp `{pa}` `{pb}` vs Raku `{a}` cmp `{b}`"
            );
        }
    }

    /// One `raku` run: `.Str` of every version, `cmp` of every pair, and `ACCEPTS` of every
    /// pattern against every version.
    const RAKU_SCRIPT: &str = r#"
        my @v = @*ARGS[0].IO.lines.map({ Version.new($_) });
        my @p = @*ARGS[1].IO.lines.map({ Version.new($_) });
        .Str.say for @v;
        for @v -> $a {
            say @v.map(-> $b { given $a cmp $b { when Less { '<' }; when Same { '=' }; default { '>' } } }).join;
        }
        for @p -> $p { say @v.map({ $p.ACCEPTS($_) ?? '1' !! '0' }).join }
    "#;

    #[test]
    fn agrees_with_rakudo() {
        let versions: Vec<String> = distinct_data_versions()
            .into_iter()
            .chain(TRICKY.iter().map(|s| s.to_string()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let patterns: Vec<String> = PATTERNS
            .iter()
            .map(|s| s.to_string())
            .chain(versions.iter().cloned())
            .chain(
                versions
                    .iter()
                    .filter(|s| !s.ends_with('+'))
                    .map(|s| format!("{s}+")),
            )
            .collect();
        let parsed: Vec<RakuVersion> = versions.iter().map(|s| v(s)).collect();
        let parsed_patterns: Vec<RakuVersion> = patterns.iter().map(|s| v(s)).collect();

        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, lines: &[String]| {
            let path = dir.path().join(name);
            let mut file = std::fs::File::create(&path).expect("temp file");
            for line in lines {
                writeln!(file, "{line}").expect("write temp file");
            }
            path
        };
        let vpath = write("versions", &versions);
        let ppath = write("patterns", &patterns);
        let out = run(
            Command::new("raku")
                .arg("-e")
                .arg(RAKU_SCRIPT)
                .arg(&vpath)
                .arg(&ppath),
            "Rakudo's `raku`",
        );
        let mut lines = out.lines();
        let mut next = || lines.next().expect("raku printed too few lines");

        for ver in &parsed {
            assert_eq!(next(), ver.to_string(), ".Str of `{ver}`");
        }
        for a in &parsed {
            let row = next();
            let ours: String = parsed
                .iter()
                .map(|b| ord_char(a.raku_cmp(b).then(a.plus().cmp(&b.plus()))))
                .collect();
            if row != ours {
                let (j, (r, o)) = row
                    .chars()
                    .zip(ours.chars())
                    .enumerate()
                    .find(|(_, (r, o))| r != o)
                    .unwrap();
                panic!(
                    "Rakudo `{a}` cmp `{}` is {r}, ours (with the plus tie-break) {o}",
                    parsed[j]
                );
            }
        }
        for p in &parsed_patterns {
            let row = next();
            let ours: String = parsed
                .iter()
                .map(|c| if p.accepts(c) { '1' } else { '0' })
                .collect();
            if row != ours {
                let (j, (r, _)) = row
                    .chars()
                    .zip(ours.chars())
                    .enumerate()
                    .find(|(_, (r, o))| r != o)
                    .unwrap();
                panic!("Rakudo `{p}` ACCEPTS `{}` is {r}, ours differs", parsed[j]);
            }
        }
        assert_eq!(lines.next(), None, "raku printed extra lines");
    }
}
