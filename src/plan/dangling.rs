//! Dependencies that exist nowhere: AUR helpers fail on a package with a dependency that
//! neither this plan, the AUR nor Arch's repositories have, so such a package is held back.

use std::collections::BTreeMap;

use alpm_types::{PackageRelation, Version};

use super::Plan;
use super::system::{self, SystemAdditions};

impl Plan {
    /// Holds back every package with a dependency that neither this plan, the AUR (as
    /// `on_aur` answers) nor Arch's repositories have, until none is left.
    pub(crate) fn hold_dangling(
        &mut self,
        additions: &SystemAdditions,
        on_aur: impl Fn(&PackageRelation) -> bool,
    ) {
        loop {
            let ours: BTreeMap<String, Version> = self
                .packages
                .iter()
                .map(|p| {
                    (
                        p.pkgname.to_string(),
                        Version::new(p.pkgver.clone(), p.epoch, None),
                    )
                })
                .collect();
            let exists = |r: &PackageRelation| {
                let name = r.name.to_string();
                match ours.get(&name) {
                    Some(v) => r
                        .version_requirement
                        .as_ref()
                        .is_none_or(|req| req.is_satisfied_by(v)),
                    None => on_aur(r) || system::is_official(&name, additions),
                }
            };
            let dangling = self.packages.iter().find_map(|p| {
                let missing = p
                    .depends
                    .iter()
                    .chain(&p.makedepends)
                    .chain(&p.checkdepends)
                    .find(|r| !exists(r))?;
                Some((p.release.name.clone(), missing.to_string()))
            });
            let Some((name, missing)) = dangling else {
                return;
            };
            self.hold(
                &name,
                format!("needs {missing}, which is neither on the AUR nor in Arch's repositories"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use alpm_types::Name;

    use super::*;
    use crate::index::parse_index;
    use crate::plan::{ExistingPackage, Held, OnAur, Overrides, plan};

    /// A (needs Lib and openssl), Lib, Old (needs the AUR's perl6-old) and Top (needs Old),
    /// with perl6-old standing in for the distribution Old::Dist.
    fn sample() -> Plan {
        let url = r#""source-url":"https://example.org/x.tar.gz""#;
        let json = format!(
            r#"[
            {{"name":"A","version":"1",{url},"depends":["Lib","ssl:from<native>"]}},
            {{"name":"Lib","version":"2",{url}}},
            {{"name":"Old","version":"1",{url},"depends":["Old::Dist:ver<0.4+>"]}},
            {{"name":"Old::Dist","version":"0.5",{url}}},
            {{"name":"Top","version":"1",{url},"test-depends":["Old"]}}
        ]"#
        );
        let releases = parse_index(json.as_bytes(), "test", 0).unwrap().releases;
        let existing = OnAur {
            existing: [(
                "Old::Dist".to_string(),
                ExistingPackage {
                    pkgname: Name::new("perl6-old").unwrap(),
                    version: Some("0.5-1".parse().unwrap()),
                },
            )]
            .into(),
            ..OnAur::default()
        };
        plan(releases, &[], &existing, &Overrides::default()).unwrap()
    }

    fn planned(plan: &Plan) -> Vec<&str> {
        plan.packages.iter().map(|p| p.pkgname.as_ref()).collect()
    }

    #[test]
    fn a_dependency_missing_everywhere_holds_the_package_and_its_dependents() {
        let mut p = sample();
        assert_eq!(planned(&p), ["raku-a", "raku-lib", "raku-old", "raku-top"]);
        // The AUR has rakudo but not perl6-old; openssl is in Arch's repositories.
        p.hold_dangling(&SystemAdditions::default(), |r| r.name.as_ref() == "rakudo");
        assert_eq!(planned(&p), ["raku-a", "raku-lib"]);
        assert_eq!(
            p.held,
            [
                Held {
                    dist: "Old:ver<1>".into(),
                    reason: "needs perl6-old>=0.4, which is neither on the AUR nor in Arch's repositories".into()
                },
                Held {
                    dist: "Top:ver<1>".into(),
                    reason: "needs raku-old, which is held back".into()
                },
            ]
        );
    }

    #[test]
    fn our_own_packages_and_the_aur_meet_every_need() {
        let mut p = sample();
        p.hold_dangling(&SystemAdditions::default(), |r| {
            ["rakudo", "perl6-old"].contains(&r.name.as_ref())
        });
        assert_eq!(planned(&p), ["raku-a", "raku-lib", "raku-old", "raku-top"]);
        assert!(p.held.is_empty(), "{:?}", p.held);
        // With nothing on the AUR, not even rakudo, nothing can be installed; each hold
        // names the first missing dependency.
        p.hold_dangling(&SystemAdditions::default(), |_| false);
        assert!(p.packages.is_empty());
        let reasons: Vec<&str> = p.held.iter().map(|h| h.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "needs rakudo, which is neither on the AUR nor in Arch's repositories",
                "needs rakudo, which is neither on the AUR nor in Arch's repositories",
                "needs perl6-old>=0.4, which is neither on the AUR nor in Arch's repositories",
                "needs raku-old, which is held back",
            ]
        );
    }
}
