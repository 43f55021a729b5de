//! Script conflicts: packages that ship a script of the same name would own the same files
//! (`/usr/bin/X` and rakudo's wrappers in the vendor repository), which pacman refuses to
//! install together, so each such package declares `conflicts` on the others and users get a
//! clear choice.

use std::collections::BTreeMap;

use alpm_types::Name;

/// For each of `packages` (a package name and the scripts it installs), in the same order,
/// the other packages that ship a script of the same name, sorted by name.
pub(crate) fn script_conflicts(packages: &[(&Name, &[String])]) -> Vec<Vec<Name>> {
    let mut owners: BTreeMap<&str, BTreeMap<&str, &Name>> = BTreeMap::new();
    for (pkgname, scripts) in packages {
        for script in *scripts {
            owners
                .entry(script.as_str())
                .or_default()
                .insert(pkgname.as_ref(), pkgname);
        }
    }
    packages
        .iter()
        .map(|(me, scripts)| {
            let others: BTreeMap<&str, &Name> = scripts
                .iter()
                .flat_map(|s| &owners[s.as_str()])
                .filter(|(other, _)| **other != me.as_ref())
                .map(|(other, name)| (*other, *name))
                .collect();
            others.into_values().cloned().collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_sharing_a_script_conflict_with_each_other_in_name_order() {
        let names: Vec<Name> = ["raku-zed", "raku-one", "raku-two", "raku-three"]
            .iter()
            .map(|n| Name::new(n).unwrap())
            .collect();
        let scripts: Vec<Vec<String>> = [
            &["tool", "zz"][..],
            &["zz", "tool", "tool"],
            &["tool", "other"],
            &["third"],
        ]
        .iter()
        .map(|s| s.iter().map(ToString::to_string).collect())
        .collect();
        let packages: Vec<(&Name, &[String])> = names
            .iter()
            .zip(&scripts)
            .map(|(n, s)| (n, &s[..]))
            .collect();
        let conflicts: Vec<Vec<String>> = script_conflicts(&packages)
            .iter()
            .map(|c| c.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(
            conflicts,
            [
                vec!["raku-one", "raku-two"],
                vec!["raku-two", "raku-zed"],
                vec!["raku-one", "raku-zed"],
                vec![],
            ]
        );
    }
}
