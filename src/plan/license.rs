//! META6 `license` values → Arch `license=()` entries (SPDX, RFC 16).
//!
//! Most of the ecosystem writes a valid SPDX identifier; the rest writes names, URLs or
//! deprecated identifiers whose meaning is clear. Those are mapped by a small table of
//! aliases; anything else becomes `LicenseRef-<name>` (Arch's form for licenses SPDX does not
//! know), whose text the package must then ship. Every result is checked with `alpm-types`'
//! SPDX parser, so only valid expressions reach a PKGBUILD.

use alpm_types::License;

/// The Arch license entries for one distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MappedLicense {
    /// One entry: several META6 licenses are alternatives, as in Perl's dual licensing.
    pub(crate) expression: String,
    /// True when a license text has to be installed under `/usr/share/licenses/$pkgname/`:
    /// the license carries licensor-specific text (MIT, BSD, ...) or SPDX does not know it.
    pub(crate) needs_own_file: bool,
    /// Said in the report when the mapping had to guess or found nothing.
    pub(crate) note: Option<String>,
}

/// Written when the distribution declares no license at all.
const UNKNOWN_LICENSE: &str = "LicenseRef-unknown";

/// Aliases seen in the real ecosystem data, lowercased, with the SPDX expression they mean.
const ALIASES: &[(&str, &str)] = &[
    ("artistic-2.0", "Artistic-2.0"),
    ("artistic 2.0", "Artistic-2.0"),
    ("artistic_2", "Artistic-2.0"),
    ("artist-2.0", "Artistic-2.0"),
    ("artistic license 2.0", "Artistic-2.0"),
    ("the artistic license 2.0", "Artistic-2.0"),
    (
        "http://www.perlfoundation.org/artistic_license_2_0",
        "Artistic-2.0",
    ),
    (
        "https://opensource.org/licenses/artistic-2.0",
        "Artistic-2.0",
    ),
    (
        "http://opensource.org/licenses/artistic-2.0",
        "Artistic-2.0",
    ),
    (
        "https://spdx.org/licenses/artistic-2.0.html",
        "Artistic-2.0",
    ),
    // CPAN's META spec calls Artistic 1.0 "artistic"; Perl's own terms are "perl_5".
    ("artistic", "Artistic-1.0"),
    ("perl_5", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
    ("perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
    ("mit", "MIT"),
    // An unversioned GPL lets the licensee pick any version (GPL-2.0 section 9).
    ("gpl", "GPL-1.0-or-later"),
    ("gpl-2.0", "GPL-2.0-only"),
    ("gpl-2.0+", "GPL-2.0-or-later"),
    ("gpl-3.0", "GPL-3.0-only"),
    ("gpl-3.0+", "GPL-3.0-or-later"),
    ("gpl-1.0+", "GPL-1.0-or-later"),
    ("agpl-3.0", "AGPL-3.0-only"),
    ("lgpl-2.1", "LGPL-2.1-only"),
    ("lgpl-2.1+", "LGPL-2.1-or-later"),
    ("lgpl-3.0", "LGPL-3.0-only"),
    ("lgpl-3.0+", "LGPL-3.0-or-later"),
    (
        "general public license 3, artistic-2.0",
        "GPL-3.0-only OR Artistic-2.0",
    ),
    (
        "general public license 2, artistic-2.0",
        "GPL-2.0-only OR Artistic-2.0",
    ),
    (
        "gpl-1.0+ or artistic-1.0-perl",
        "GPL-1.0-or-later OR Artistic-1.0-Perl",
    ),
    ("apache license 2.0", "Apache-2.0"),
    ("apache-license-2.0", "Apache-2.0"),
    ("bsd-3", "BSD-3-Clause"),
    ("http://unlicense.org/unlicense", "Unlicense"),
];

/// SPDX licenses whose text names the licensor, so Arch's `licenses` package cannot ship it.
const NEEDS_OWN_TEXT: &[&str] = &[
    "0BSD",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSD-4-Clause",
    "HPND",
    "ISC",
    "MIT",
    "MIT-0",
    "NCSA",
    "PostgreSQL",
    "Python-2.0",
    "X11",
    "Zlib",
];

/// Maps the licenses a META6 entry declares.
pub(super) fn map_licenses(declared: &[String]) -> MappedLicense {
    let declared: Vec<&str> = declared
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("NOASSERTION"))
        .collect();
    if declared.is_empty() {
        return MappedLicense {
            expression: UNKNOWN_LICENSE.to_string(),
            needs_own_file: true,
            note: Some("declares no license".to_string()),
        };
    }
    let mut parts = Vec::new();
    let mut notes = Vec::new();
    for text in &declared {
        match map_one(text) {
            Ok(expression) => parts.push(expression),
            Err(reference) => {
                notes.push(format!(
                    "license {} is not SPDX; written as {reference}",
                    crate::text::escape_for_log(text)
                ));
                parts.push(reference);
            }
        }
    }
    parts.dedup();
    let expression = if parts.len() == 1 {
        parts.remove(0)
    } else {
        parts
            .iter()
            .map(|p| {
                if p.contains(' ') {
                    format!("({p})")
                } else {
                    p.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    let needs_own_file = expression
        .split([' ', '(', ')'])
        .any(|id| NEEDS_OWN_TEXT.contains(&id) || id.starts_with("LicenseRef-"));
    MappedLicense {
        expression,
        needs_own_file,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// A valid SPDX expression for `text`, or the `LicenseRef-` it becomes.
fn map_one(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    let candidate = ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map_or(text, |(_, spdx)| spdx);
    match License::from_valid_spdx(candidate.to_string()) {
        Ok(license) => Ok(license.to_string()),
        Err(_) => Err(license_ref(text)),
    }
}

/// `LicenseRef-` plus the name reduced to SPDX's idstring alphabet (letters, digits, `.`, `-`).
fn license_ref(text: &str) -> String {
    let mut id = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id: String = id.trim_matches(['-', '.']).chars().take(64).collect();
    let id = id.trim_end_matches(['-', '.']);
    if id.is_empty() {
        UNKNOWN_LICENSE.to_string()
    } else {
        format!("LicenseRef-{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(declared: &[&str]) -> MappedLicense {
        map_licenses(&declared.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn spdx_identifiers_pass_through() {
        let m = map(&["Artistic-2.0"]);
        assert_eq!(m.expression, "Artistic-2.0");
        assert!(!m.needs_own_file);
        assert_eq!(m.note, None);
        assert_eq!(
            map(&["Artistic-2.0 AND OFL-1.1"]).expression,
            "Artistic-2.0 AND OFL-1.1"
        );
    }

    #[test]
    fn licenses_with_a_copyright_line_need_their_file() {
        assert!(map(&["MIT"]).needs_own_file);
        assert!(map(&["BSD-3-Clause"]).needs_own_file);
        assert!(map(&["Artistic-2.0 AND X11"]).needs_own_file);
    }

    #[test]
    fn aliases_and_deprecated_ids_are_mapped() {
        assert_eq!(
            map(&["http://www.perlfoundation.org/artistic_license_2_0"]).expression,
            "Artistic-2.0"
        );
        assert_eq!(map(&["Artistic 2.0"]).expression, "Artistic-2.0");
        assert_eq!(map(&["GPL-3.0"]).expression, "GPL-3.0-only");
        assert_eq!(map(&["gpl-3.0"]).expression, "GPL-3.0-only");
        assert_eq!(
            map(&["perl_5"]).expression,
            "Artistic-1.0-Perl OR GPL-1.0-or-later"
        );
    }

    #[test]
    fn a_list_is_a_choice() {
        assert_eq!(
            map(&["GPL", "Artistic-2.0"]).expression,
            "GPL-1.0-or-later OR Artistic-2.0"
        );
        assert_eq!(
            map(&["perl_5", "MIT"]).expression,
            "(Artistic-1.0-Perl OR GPL-1.0-or-later) OR MIT"
        );
    }

    #[test]
    fn unknown_names_become_license_refs_with_a_note() {
        let m = map(&["Choose me!"]);
        assert_eq!(m.expression, "LicenseRef-Choose-me");
        assert!(m.needs_own_file);
        assert_eq!(
            m.note.as_deref(),
            Some("license \"Choose me!\" is not SPDX; written as LicenseRef-Choose-me")
        );
        assert_eq!(map(&["$(rm -rf ~)'\n"]).expression, "LicenseRef-rm-rf");
        assert_eq!(map(&["!!!"]).expression, UNKNOWN_LICENSE);
    }

    #[test]
    fn missing_or_noassertion_is_unknown() {
        for declared in [&[][..], &[""], &["NOASSERTION"]] {
            let m = map(declared);
            assert_eq!(m.expression, UNKNOWN_LICENSE);
            assert_eq!(m.note.as_deref(), Some("declares no license"));
        }
    }

    #[test]
    fn every_real_license_maps_to_a_valid_expression() {
        for file in [
            "rea-sample.json",
            "rea-pages.json",
            "p6c-2023-03.json",
            "cpan-2023-03.json",
        ] {
            let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
            let entries: Vec<serde_json::Value> =
                serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            for entry in entries {
                let declared: Vec<String> = match entry.get("license").or(entry.get("licence")) {
                    Some(serde_json::Value::String(s)) => vec![s.clone()],
                    Some(serde_json::Value::Array(a)) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect(),
                    _ => vec![],
                };
                let m = map_licenses(&declared);
                assert!(
                    License::from_valid_spdx(m.expression.clone()).is_ok(),
                    "{declared:?} -> {}",
                    m.expression
                );
                assert!(
                    m.expression
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || " .-+()".contains(c)),
                    "{}",
                    m.expression
                );
            }
        }
    }
}
