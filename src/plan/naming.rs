//! Names: the AUR package name of a distribution, and which distributions cannot have one
//! (a name an AUR package cannot hold, or two distributions that map to one name).

use std::collections::BTreeMap;

use alpm_types::Name;

use crate::index::Release;
use crate::text::escape_for_log;

/// Every generated package name starts with this.
pub const PKGNAME_PREFIX: &str = "raku-";
/// The AUR's limit on a package name.
const PKGNAME_MAX_LEN: usize = 255;

/// The lowercased name with `::` → `-`: what follows the prefix in our package name and in
/// the hand-written AUR packages' (`perl6-json-fast`).
pub(crate) fn name_stem(dist: &str) -> String {
    dist.replace("::", "-").to_ascii_lowercase()
}

/// `raku-` + `name_stem`; or why the name cannot be an AUR package name.
pub fn pkgname_for(dist: &str) -> Result<Name, String> {
    let mapped = format!("{PKGNAME_PREFIX}{}", name_stem(dist));
    if let Some(bad) = mapped
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || ".+_-".contains(*c)))
    {
        return Err(format!(
            "name {} contains {}, which an AUR package name cannot hold",
            escape_for_log(dist),
            escape_for_log(&bad.to_string())
        ));
    }
    if mapped.len() > PKGNAME_MAX_LEN {
        return Err(format!(
            "name is {} characters long; an AUR package name holds at most {PKGNAME_MAX_LEN}",
            mapped.len()
        ));
    }
    Name::new(&mapped).map_err(|e| format!("package name {mapped} is invalid: {e}"))
}

/// Package names for every selected distribution; collisions and bad names are held.
pub(super) fn assign_names(
    selected: &BTreeMap<String, Release>,
    adopted: &BTreeMap<String, Name>,
    held: &mut BTreeMap<String, String>,
) -> BTreeMap<String, Name> {
    let mut by_pkgname: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    let mut names = BTreeMap::new();
    for name in selected.keys() {
        // An adopted package keeps its name: users have it installed under that name.
        let pkgname = match adopted.get(name) {
            Some(kept) => Ok(kept.clone()),
            None => pkgname_for(name),
        };
        match pkgname {
            Ok(pkgname) => {
                by_pkgname
                    .entry(pkgname.to_string())
                    .or_default()
                    .push(name);
                names.insert(name.clone(), pkgname);
            }
            Err(reason) => {
                held.insert(name.clone(), reason);
            }
        }
    }
    for (pkgname, dists) in by_pkgname {
        if dists.len() > 1 {
            for dist in &dists {
                let others: Vec<String> = dists
                    .iter()
                    .filter(|d| d != &dist)
                    .map(|d| escape_for_log(d))
                    .collect();
                held.insert(
                    (*dist).clone(),
                    format!("package name {pkgname} collides with {}", others.join(", ")),
                );
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_mapped_or_held() {
        assert_eq!(
            pkgname_for("JSON::Fast").unwrap().to_string(),
            "raku-json-fast"
        );
        assert_eq!(
            pkgname_for("US-ASCII").unwrap().to_string(),
            "raku-us-ascii"
        );
        assert_eq!(pkgname_for("if").unwrap().to_string(), "raku-if");
        for hostile in [
            "Perl6 Snowball Binding",
            "Foo::<b>Foo",
            "../Foo",
            " * Foo:: * ",
            "Ünicode",
            "a'b",
        ] {
            let reason = pkgname_for(hostile).unwrap_err();
            assert!(
                reason.contains("which an AUR package name cannot hold"),
                "{reason}"
            );
        }
        assert!(
            pkgname_for(&"A".repeat(300))
                .unwrap_err()
                .contains("at most 255")
        );
    }
}
