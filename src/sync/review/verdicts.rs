//! The review gate's verdicts: [`reasons`] compares what is proposed with what the AUR
//! repository holds (the server is the truth, so old values come from the tip's `.SRCINFO`
//! and `PKGBUILD`, never from our own records) and names each change the policy asks a human
//! to look at. Pure.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::policy::{ReviewKind, ReviewPolicy};
use crate::render::Files;
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
}

/// The reasons, of the kinds `policy` names, why `files` (with `proposed`) should not replace
/// `tip` (`None`: the AUR has no such package yet) without a human's approval. Empty: a
/// routine change.
///
/// Without a tip every system dependency is new and there is no license or auth to compare.
/// A non-archive source the tip already downloads from is not flagged again: the pkgrel rules
/// refuse a changed checksum for a published source, so it still delivers what was published.
pub fn reasons(
    policy: &ReviewPolicy,
    tip: Option<&Files>,
    files: &Files,
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
            let (old, new) = (licenses(&tip.srcinfo), licenses(&files.srcinfo));
            if old != new {
                add(
                    ReviewKind::LicenseChange,
                    format!(
                        "license changes from {} to {}",
                        show_list(&old),
                        show_list(&new)
                    ),
                );
            }
            match distribution_auth(&tip.pkgbuild) {
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
    let known = tip
        .map(|t| dependency_names(&t.srcinfo))
        .unwrap_or_default();
    for dep in proposed.system_deps.difference(&known) {
        add(
            ReviewKind::NewSystemDependency,
            format!("new system dependency {}", escape_for_log(dep)),
        );
    }
    let published = tip.map(|t| source_urls(&t.srcinfo)).unwrap_or_default();
    for url in source_urls(&files.srcinfo) {
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

/// Values of `key` in the pkgbase section of a `.SRCINFO` (the part before any `pkgname`).
fn base_values<'a>(srcinfo: &'a str, key: &str) -> Vec<&'a str> {
    let prefix = format!("\t{key} = ");
    srcinfo
        .lines()
        .take_while(|l| !l.starts_with("pkgname = "))
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .collect()
}

fn licenses(srcinfo: &str) -> Vec<&str> {
    let mut licenses = base_values(srcinfo, "license");
    licenses.sort_unstable();
    licenses
}

/// The URLs of `source = localname::url` lines (a URL never holds `::`: render refuses it).
fn source_urls(srcinfo: &str) -> BTreeSet<&str> {
    base_values(srcinfo, "source")
        .into_iter()
        .map(|s| s.split_once("::").map_or(s, |(_, url)| url))
        .collect()
}

/// Every package name any dependency field of a `.SRCINFO` mentions, in any section and for
/// any architecture, without version bounds or optdepends' reasons.
fn dependency_names(srcinfo: &str) -> BTreeSet<String> {
    const FIELDS: [&str; 4] = ["depends", "makedepends", "checkdepends", "optdepends"];
    srcinfo
        .lines()
        .filter_map(|l| l.trim_start().split_once(" = "))
        .filter(|(key, _)| {
            let field = key.split_once('_').map_or(*key, |(field, _)| field);
            FIELDS.contains(&field)
        })
        .filter_map(|(_, value)| value.split([':', '<', '>', '=']).next())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// The auth in the PKGBUILD's `# Distribution: Name:ver<..>[:auth<..>][:api<..>]` line:
/// `Some(None)` when it names none, `None` when there is no such line or it cannot be read.
///
/// Names and versions cannot hold `<` or `>`, an auth can: the auth runs to the last `>`,
/// less a trailing `>:api<..>` whose value looks like a version. An auth that itself ends in
/// such text reads differently from what the index says, which makes the gate flag it: the
/// safe direction.
fn distribution_auth(pkgbuild: &str) -> Option<Option<String>> {
    let line = pkgbuild
        .lines()
        .find_map(|l| l.strip_prefix("# Distribution: "))?;
    let (_, after_ver) = line.split_once(":ver<")?;
    let (_, rest) = after_ver.split_once('>')?;
    if rest.is_empty() {
        return Some(None);
    }
    if let Some(api) = rest.strip_prefix(":api<") {
        return is_version_text(api.strip_suffix('>')?).then_some(None);
    }
    let auth = rest.strip_prefix(":auth<")?.strip_suffix('>')?;
    let auth = match auth.rfind(">:api<") {
        Some(at) if is_version_text(&auth[at + ">:api<".len()..]) => &auth[..at],
        _ => auth,
    };
    Some(Some(auth.to_string()))
}

/// How a Raku version is written: parts joined by `.`, maybe a `+`.
fn is_version_text(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_*.+".contains(c))
}

fn show_list(values: &[&str]) -> String {
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
    use crate::render::model::{BuildSteps, PackageModel};
    use crate::sync::review::policy::REA_ARCHIVE_PREFIX;
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

    fn proposed(auth: Option<&str>, system: &[&str]) -> Proposed {
        Proposed {
            auth: auth.map(str::to_string),
            system_deps: system.iter().map(ToString::to_string).collect(),
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
        let tip = old.map(files);
        reasons(
            &every_kind(),
            tip.as_ref(),
            &files(new),
            &proposed(auth, system),
        )
    }

    fn texts(reasons: &[Reason]) -> Vec<(ReviewKind, &str)> {
        reasons.iter().map(|r| (r.kind, r.text.as_str())).collect()
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
    fn the_auth_is_read_around_an_api_and_a_disguised_auth_is_flagged() {
        let line = |d: &str| format!("# Maintainer: x\n# Distribution: {d}\n\npkgname=raku-foo\n");
        assert_eq!(
            distribution_auth(&line("Foo:ver<1.0>:auth<zef:a>:api<2>")),
            Some(Some("zef:a".into()))
        );
        assert_eq!(distribution_auth(&line("Foo:ver<1.0>:api<2>")), Some(None));
        assert_eq!(
            distribution_auth(&line("Foo:ver<1.0>:auth<a<b>c>")),
            Some(Some("a<b>c".into()))
        );
        assert_eq!(distribution_auth(&line("Foo:ver<1.0>:auth<cut…")), None);
        assert_eq!(distribution_auth("pkgname=raku-foo\n"), None);
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
            Some(&tip),
            &files(&new),
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
            &files(&new),
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
        let all = reasons(&every_kind(), Some(&files(&old)), &files(&new), &p);
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
        let found = reasons(&only_license, Some(&files(&old)), &files(&new), &p);
        assert_eq!(
            found.iter().map(|r| r.kind).collect::<Vec<_>>(),
            [ReviewKind::LicenseChange]
        );
        let none = ReviewPolicy {
            changes: BTreeSet::new(),
            archive: vec![REA_ARCHIVE_PREFIX.to_string()],
        };
        assert!(reasons(&none, None, &files(&new), &p).is_empty());
    }
}
