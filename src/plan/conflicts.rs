//! Script conflicts: packages that ship a script of the same name would own the same files
//! (`/usr/bin/X` and rakudo's wrappers in the vendor repository), which pacman refuses to
//! install together, so each such package declares `conflicts` on the others and users get a
//! clear choice.

use std::collections::{BTreeMap, BTreeSet};

use alpm_types::Name;

use super::Plan;

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

impl Plan {
    /// Holds back every package that conflicts with a package it needs, directly or through
    /// others: pacman could never install it. `conflicts` maps a package name to the
    /// packages it conflicts with.
    pub(crate) fn hold_conflicting_needs(&mut self, conflicts: &BTreeMap<String, Vec<Name>>) {
        let pkgname_of: BTreeMap<&str, &str> = self
            .packages
            .iter()
            .map(|p| (p.release.name.as_str(), p.pkgname.as_ref()))
            .collect();
        let needs_of: BTreeMap<&str, Vec<&str>> = self
            .packages
            .iter()
            .map(|p| {
                let needs = p.needs.iter().filter_map(|d| pkgname_of.get(d.as_str()));
                (p.pkgname.as_ref(), needs.copied().collect())
            })
            .collect();
        let mut held = Vec::new();
        for p in &self.packages {
            let Some(against) = conflicts.get(p.pkgname.as_ref()) else {
                continue;
            };
            let mut needed = BTreeSet::new();
            let mut stack = needs_of[p.pkgname.as_ref()].clone();
            while let Some(next) = stack.pop() {
                if needed.insert(next) {
                    stack.extend(needs_of.get(next).into_iter().flatten());
                }
            }
            if let Some(both) = against.iter().find(|n| needed.contains(n.as_ref())) {
                held.push((
                    p.release.name.clone(),
                    format!(
                        "ships a script that {both}, which it needs, ships too: pacman cannot \
                         install both"
                    ),
                ));
            }
        }
        for (dist, reason) in held {
            self.hold(&dist, reason);
        }
    }
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
