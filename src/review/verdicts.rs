//! The review gate's verdicts: [`reasons`] compares what is proposed with what the AUR
//! repository holds (the server is the truth, so old values come from the tip's `.SRCINFO`
//! and `PKGBUILD`, never from our own records) and names each change the policy asks a human
//! to look at. Pure.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::policy::{ReviewKind, ReviewPolicy};
use crate::aur_tip::PublishedPackage;
use crate::text::escape_for_log;

/// One reason a proposed change waits for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub kind: ReviewKind,
    /// One line for a human; untrusted values in it are escaped.
    pub text: String,
}

/// What the gate needs to know about a proposed package besides its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    /// The distribution's auth as the index gives it.
    pub auth: Option<String>,
    /// The Arch packages among its dependencies that stand for native libraries, programs or
    /// Perl 5 modules.
    pub system_deps: BTreeSet<String>,
    /// Published under the name of an AUR package our account adopted.
    pub adopted: bool,
}

/// The reasons, of the kinds `policy` names, why `new` (with `proposed`) should not replace
/// `tip` (`None`: the AUR has no such package yet) without a human's approval. Empty: a
/// routine change. `new` is read from the files to push as `tip` is from the tip's, so both
/// compare like with like.
///
/// Without a tip every system dependency is new and there is no license or auth to compare.
/// A non-archive source the tip already downloads from is not flagged again: the pkgrel rules
/// refuse a changed checksum for a published source, so it still delivers what was published.
pub(crate) fn reasons(
    policy: &ReviewPolicy,
    tip: Option<&PublishedPackage>,
    new: &PublishedPackage,
    proposed: &Proposed,
) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut add = |kind: ReviewKind, text: String| {
        if policy.changes.contains(&kind) {
            out.push(Reason { kind, text });
        }
    };
    // The published line holds the auth as the PKGBUILD writer sanitised the whole identity;
    // compare like with like, or an auth with odd whitespace would wait for review after every
    // update. Between its non-blank brackets the auth sanitises as it does inside the line.
    let new_auth = proposed.auth.as_deref().map(|a| {
        let line = crate::render::shell::sanitize_line(&format!("<{a}>"), usize::MAX);
        line[1..line.len() - 1].to_string()
    });
    let new_auth = new_auth.as_deref();
    match tip {
        None => add(
            ReviewKind::FirstPublication,
            "first publication: the AUR has no such package yet".into(),
        ),
        Some(tip) => {
            if tip.licenses != new.licenses {
                add(
                    ReviewKind::LicenseChange,
                    format!(
                        "license changes from {} to {}",
                        show_list(&tip.licenses),
                        show_list(&new.licenses)
                    ),
                );
            }
            match &tip.auth {
                // Someone else's package, adopted: its history stays, its contents change.
                None if proposed.adopted => add(
                    ReviewKind::Adoption,
                    "first push to a package adopted from another maintainer: raku-aur replaces \
                     its PKGBUILD on top of its history"
                        .into(),
                ),
                Some(old) if old.as_deref() == new_auth => {}
                Some(old) => add(
                    ReviewKind::AuthChange,
                    format!(
                        "auth changes from {} to {}",
                        show_auth(old.as_deref()),
                        show_auth(new_auth)
                    ),
                ),
                None => add(
                    ReviewKind::AuthChange,
                    format!(
                        "the published PKGBUILD has no readable `# Distribution:` line, so the auth {} cannot be compared with the published one",
                        show_auth(new_auth)
                    ),
                ),
            }
        }
    }
    let none = BTreeSet::new();
    let known = tip.map_or(&none, |t| &t.dependency_names);
    for dep in proposed.system_deps.difference(known) {
        add(
            ReviewKind::NewSystemDependency,
            format!("new system dependency {}", escape_for_log(dep)),
        );
    }
    if let Some(tip) = tip {
        for text in dependency_changes(tip, new, proposed) {
            add(ReviewKind::DependencyChange, text);
        }
    }
    let published = tip.map(PublishedPackage::source_urls).unwrap_or_default();
    for url in new.source_urls() {
        let archived = policy.archive.iter().any(|p| crate::urls::is_under(url, p));
        if !archived && !published.contains(url) {
            add(
                ReviewKind::SourceHost,
                format!(
                    "source {} is not from the archive ({})",
                    escape_for_log(url),
                    policy.archive.join(", ")
                ),
            );
        }
    }
    out
}

/// How the Raku side of the dependencies changes between the tip and the proposal: a
/// dependency replaced by another (a new provider or stand-in for the same need), and any new
/// dependency on an AUR package that is not one of ours. A dependency that is only added is
/// a routine update when it is ours: its own first publication is reviewed.
fn dependency_changes(
    tip: &PublishedPackage,
    new: &PublishedPackage,
    proposed: &Proposed,
) -> Vec<String> {
    let raku_side = |names: &BTreeSet<String>| -> BTreeSet<String> {
        names
            .iter()
            .filter(|n| !proposed.system_deps.contains(*n) && n.as_str() != crate::plan::RAKUDO)
            .cloned()
            .collect()
    };
    let (old, now) = (
        raku_side(&tip.dependency_names),
        raku_side(&new.dependency_names),
    );
    let removed: Vec<&String> = old.difference(&now).collect();
    let added: Vec<&String> = now.difference(&old).collect();
    let mut out = Vec::new();
    if !removed.is_empty() && !added.is_empty() {
        out.push(format!(
            "dependencies change: {} replaced by {}",
            show_names(&removed),
            show_names(&added)
        ));
    }
    for name in added
        .iter()
        .filter(|n| !n.starts_with(crate::plan::PKGNAME_PREFIX))
    {
        out.push(format!(
            "now depends on {}, an AUR package raku-aur does not publish",
            escape_for_log(name)
        ));
    }
    out
}

fn show_names(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| escape_for_log(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_list(values: &[String]) -> String {
    if values.is_empty() {
        return "none".into();
    }
    values
        .iter()
        .map(|v| escape_for_log(v))
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_auth(auth: Option<&str>) -> String {
    auth.map_or_else(|| "none".into(), escape_for_log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Files;
    use crate::render::model::{BuildSteps, PackageModel};
    use crate::review::policy::REA_ARCHIVE_PREFIX;
    use alpm_types::{Name, PackageRelation, PackageRelease};

    const ARCHIVED: &str =
        "https://raw.githubusercontent.com/raku/REA/main/archive/F/Foo/Foo%3Aver%3C1.0%3E.tar.gz";

    /// What varies between a published package and a proposed one in these tests.
    #[derive(Clone)]
    struct Pkg {
        dist: &'static str,
        license: Vec<&'static str>,
        depends: Vec<&'static str>,
        checkdepends: Vec<&'static str>,
        optdepends: Vec<&'static str>,
        url: &'static str,
    }

    fn pkg() -> Pkg {
        Pkg {
            dist: "Foo:ver<1.0>:auth<zef:alice>",
            license: vec!["MIT"],
            depends: vec!["rakudo"],
            checkdepends: vec![],
            optdepends: vec![],
            url: ARCHIVED,
        }
    }

    /// The files raku-aur itself renders for `p`: the parsers read the real format.
    fn files(p: &Pkg) -> Files {
        let relations = |names: &[&str]| -> Vec<PackageRelation> {
            names.iter().map(|d| d.parse().unwrap()).collect()
        };
        let model = PackageModel {
            pkgname: Name::new("raku-foo").unwrap(),
            pkgver: "1.0".parse().unwrap(),
            pkgrel: PackageRelease::new(1, None),
            epoch: None,
            pkgdesc: "Foo".into(),
            url: "https://raku.land/".into(),
            arch: vec!["any".into()],
            license: p.license.iter().map(ToString::to_string).collect(),
            depends: relations(&p.depends),
            makedepends: vec![],
            checkdepends: relations(&p.checkdepends),
            optdepends: p.optdepends.iter().map(ToString::to_string).collect(),
            provides: vec![],
            conflicts: vec![],
            source: vec![format!("raku-foo-1.0.tar.gz::{}", p.url)],
            sha256sums: vec!["0".repeat(64)],
            build: BuildSteps {
                dist: p.dist.into(),
                source_dir: "Foo-1.0".into(),
                tests: vec![],
                bin_scripts: vec![],
                license_files: vec![],
                maintainer: "me <me@example.org>".into(),
            },
        };
        crate::render::files(&model).unwrap()
    }

    /// `p` as the gate sees it, read back from the files raku-aur renders for it.
    fn package(p: &Pkg) -> PublishedPackage {
        PublishedPackage::read(files(p)).unwrap()
    }

    fn proposed(auth: Option<&str>, system: &[&str]) -> Proposed {
        Proposed {
            auth: auth.map(str::to_string),
            system_deps: system.iter().map(ToString::to_string).collect(),
            adopted: false,
        }
    }

    fn every_kind() -> ReviewPolicy {
        ReviewPolicy {
            changes: ReviewKind::ALL.into_iter().collect(),
            archive: vec![REA_ARCHIVE_PREFIX.to_string()],
        }
    }

    /// The reasons for proposing `new` over a tip holding `old` (None: first publication).
    fn check(old: Option<&Pkg>, new: &Pkg, auth: Option<&str>, system: &[&str]) -> Vec<Reason> {
        let tip = old.map(package);
        reasons(
            &every_kind(),
            tip.as_ref(),
            &package(new),
            &proposed(auth, system),
        )
    }

    fn texts(reasons: &[Reason]) -> Vec<(ReviewKind, &str)> {
        reasons.iter().map(|r| (r.kind, r.text.as_str())).collect()
    }

    #[test]
    fn a_dependency_that_moves_to_another_package_waits_for_review() {
        let mut old = pkg();
        old.depends.extend(["raku-uri", "libfoo"]);
        // Another ecosystem provider for the same need.
        let mut new = pkg();
        new.depends.extend(["raku-uri-fork", "libfoo"]);
        assert_eq!(
            texts(&check(Some(&old), &new, Some("zef:alice"), &["libfoo"])),
            [(
                ReviewKind::DependencyChange,
                "dependencies change: raku-uri replaced by raku-uri-fork"
            )]
        );
        // A stand-in that is not ours, instead of our package.
        let mut new = pkg();
        new.depends.extend(["perl6-uri", "libfoo"]);
        assert_eq!(
            texts(&check(Some(&old), &new, Some("zef:alice"), &["libfoo"])),
            [
                (
                    ReviewKind::DependencyChange,
                    "dependencies change: raku-uri replaced by perl6-uri"
                ),
                (
                    ReviewKind::DependencyChange,
                    "now depends on perl6-uri, an AUR package raku-aur does not publish"
                )
            ]
        );
        // Dropping a dependency, or adding one of ours, is routine.
        let mut new = pkg();
        new.depends.push("libfoo");
        assert_eq!(
            check(Some(&old), &new, Some("zef:alice"), &["libfoo"]),
            Vec::new()
        );
        let mut new = pkg();
        new.depends.extend(["raku-uri", "raku-idna", "libfoo"]);
        assert_eq!(
            check(Some(&old), &new, Some("zef:alice"), &["libfoo"]),
            Vec::new()
        );
    }

    #[test]
    fn a_routine_update_needs_no_review() {
        let old = pkg();
        let mut new = pkg();
        new.depends.push("raku-bar>=1");
        assert_eq!(check(Some(&old), &new, Some("zef:alice"), &[]), Vec::new());
    }

    #[test]
    fn a_first_publication_is_flagged_and_an_update_is_not() {
        let p = pkg();
        assert_eq!(
            texts(&check(None, &p, Some("zef:alice"), &[])),
            [(
                ReviewKind::FirstPublication,
                "first publication: the AUR has no such package yet"
            )]
        );
        assert!(check(Some(&p), &p, Some("zef:alice"), &[]).is_empty());
    }

    #[test]
    fn a_license_change_is_flagged_and_the_same_licenses_in_another_order_are_not() {
        let old = pkg();
        let mut new = pkg();
        new.license = vec!["Artistic-2.0"];
        assert_eq!(
            texts(&check(Some(&old), &new, Some("zef:alice"), &[])),
            [(
                ReviewKind::LicenseChange,
                "license changes from MIT to Artistic-2.0"
            )]
        );
        let mut two = pkg();
        two.license = vec!["MIT", "Artistic-2.0"];
        let mut swapped = pkg();
        swapped.license = vec!["Artistic-2.0", "MIT"];
        assert!(check(Some(&two), &swapped, Some("zef:alice"), &[]).is_empty());
    }

    #[test]
    fn an_auth_change_is_flagged_and_the_same_auth_is_not() {
        let old = pkg();
        let mut new = pkg();
        new.dist = "Foo:ver<1.1>:auth<zef:mallory>";
        assert_eq!(
            texts(&check(Some(&old), &new, Some("zef:mallory"), &[])),
            [(
                ReviewKind::AuthChange,
                "auth changes from zef:alice to zef:mallory"
            )]
        );
        new.dist = "Foo:ver<1.1>:auth<zef:alice>";
        assert!(check(Some(&old), &new, Some("zef:alice"), &[]).is_empty());
        // Losing the auth, or gaining one, is a change too.
        new.dist = "Foo:ver<1.1>";
        assert_eq!(
            texts(&check(Some(&old), &new, None, &[])),
            [(
                ReviewKind::AuthChange,
                "auth changes from zef:alice to none"
            )]
        );
        assert_eq!(
            texts(&check(Some(&new), &old, Some("zef:alice"), &[])),
            [(
                ReviewKind::AuthChange,
                "auth changes from none to zef:alice"
            )]
        );
    }

    #[test]
    fn an_auth_with_odd_whitespace_matches_its_sanitised_published_form() {
        // Both from the real index data: a no-break space, and a trailing newline; the
        // published lines are what the PKGBUILD writer makes of them (checked below).
        for (raw, published) in [
            (
                "Matthew \u{2018}Mat\u{e9}u\u{2019}\u{a0}Stephen Stuckwisch",
                "Foo:ver<1.0>:auth<Matthew \u{2018}Mat\u{e9}u\u{2019} Stephen Stuckwisch>",
            ),
            ("github:someone\n", "Foo:ver<1.0>:auth<github:someone >"),
        ] {
            assert_eq!(
                crate::render::shell::sanitize_line(&format!("Foo:ver<1.0>:auth<{raw}>"), 500),
                published
            );
            let mut old = pkg();
            old.dist = published;
            assert!(
                check(Some(&old), &old, Some(raw), &[]).is_empty(),
                "{raw:?}"
            );
            assert!(!check(Some(&old), &old, Some("zef:other"), &[]).is_empty());
        }
    }

    #[test]
    fn a_disguised_auth_is_flagged() {
        // An auth written to look like the published auth plus an api reads as that auth,
        // which differs from what the index says: flagged.
        let old = pkg();
        let mut new = pkg();
        new.dist = "Foo:ver<1.1>:auth<zef:alice>:api<1>";
        assert_eq!(
            texts(&check(Some(&old), &new, Some("zef:alice>:api<1"), &[])),
            [(
                ReviewKind::AuthChange,
                "auth changes from zef:alice to zef:alice>:api<1"
            )]
        );
    }

    #[test]
    fn a_tip_without_a_distribution_line_cannot_vouch_for_the_auth() {
        let mut tip = files(&pkg());
        tip.pkgbuild = tip
            .pkgbuild
            .replace("# Distribution: ", "# Edited by hand: ");
        let new = pkg();
        let found = reasons(
            &every_kind(),
            Some(&PublishedPackage::read(tip).unwrap()),
            &package(&new),
            &proposed(Some("zef:alice"), &[]),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, ReviewKind::AuthChange);
        assert!(found[0].text.contains("cannot be compared"), "{found:?}");
    }

    #[test]
    fn a_new_system_dependency_is_flagged_and_a_known_one_is_not() {
        let old = pkg();
        let mut new = pkg();
        new.depends = vec!["openssl", "rakudo"];
        assert_eq!(
            texts(&check(Some(&old), &new, Some("zef:alice"), &["openssl"])),
            [(
                ReviewKind::NewSystemDependency,
                "new system dependency openssl"
            )]
        );
        // Known from any dependency field, with or without a version bound or a reason.
        for known in [
            Pkg {
                checkdepends: vec!["openssl>=3"],
                ..pkg()
            },
            Pkg {
                optdepends: vec!["openssl: for TLS"],
                ..pkg()
            },
            Pkg {
                depends: vec!["openssl", "rakudo"],
                ..pkg()
            },
        ] {
            assert!(
                check(Some(&known), &new, Some("zef:alice"), &["openssl"]).is_empty(),
                "{}",
                files(&known).srcinfo
            );
        }
        // Raku packages the tip lacks are routine: only system packages count.
        new.depends = vec!["rakudo", "raku-bar"];
        assert!(check(Some(&old), &new, Some("zef:alice"), &[]).is_empty());
    }

    #[test]
    fn a_first_publication_names_its_system_dependencies_too() {
        let mut new = pkg();
        new.depends = vec!["rakudo", "zlib"];
        let policy = ReviewPolicy {
            changes: [ReviewKind::NewSystemDependency].into(),
            archive: vec![REA_ARCHIVE_PREFIX.to_string()],
        };
        let found = reasons(
            &policy,
            None,
            &package(&new),
            &proposed(Some("zef:alice"), &["zlib"]),
        );
        assert_eq!(
            texts(&found),
            [(
                ReviewKind::NewSystemDependency,
                "new system dependency zlib"
            )]
        );
    }

    #[test]
    fn a_source_outside_the_archive_is_flagged_and_an_archived_one_is_not() {
        let old = pkg();
        let mut new = pkg();
        new.url = "https://evil.example/Foo-1.0.tar.gz";
        assert_eq!(
            texts(&check(Some(&old), &new, Some("zef:alice"), &[])),
            [(
                ReviewKind::SourceHost,
                "source https://evil.example/Foo-1.0.tar.gz is not from the archive (https://raw.githubusercontent.com/raku/REA/main/archive/)"
            )]
        );
        new.url = "https://raw.githubusercontent.com/raku/REA/main/archive/F/Foo/Foo-1.1.tar.gz";
        assert!(check(Some(&old), &new, Some("zef:alice"), &[]).is_empty());
        // Already published from there: the same URL delivers the same checksummed bytes.
        let mut github = pkg();
        github.url = "https://github.com/alice/Foo/archive/1.0.tar.gz";
        assert!(check(Some(&github), &github, Some("zef:alice"), &[]).is_empty());
    }

    #[test]
    fn only_the_kinds_the_policy_names_are_reported() {
        let old = pkg();
        let mut new = pkg();
        new.license = vec!["Artistic-2.0"];
        new.dist = "Foo:ver<1.1>:auth<zef:mallory>";
        new.url = "https://evil.example/Foo.tar.gz";
        new.depends = vec!["rakudo", "zlib"];
        let p = proposed(Some("zef:mallory"), &["zlib"]);
        let all = reasons(&every_kind(), Some(&package(&old)), &package(&new), &p);
        assert_eq!(
            all.iter().map(|r| r.kind).collect::<Vec<_>>(),
            [
                ReviewKind::LicenseChange,
                ReviewKind::AuthChange,
                ReviewKind::NewSystemDependency,
                ReviewKind::SourceHost
            ]
        );
        let only_license = ReviewPolicy {
            changes: [ReviewKind::LicenseChange].into(),
            archive: vec![REA_ARCHIVE_PREFIX.to_string()],
        };
        let found = reasons(&only_license, Some(&package(&old)), &package(&new), &p);
        assert_eq!(
            found.iter().map(|r| r.kind).collect::<Vec<_>>(),
            [ReviewKind::LicenseChange]
        );
        let none = ReviewPolicy {
            changes: BTreeSet::new(),
            archive: vec![REA_ARCHIVE_PREFIX.to_string()],
        };
        assert!(reasons(&none, None, &package(&new), &p).is_empty());
    }
}
