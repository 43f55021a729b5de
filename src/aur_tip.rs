//! The package as the AUR holds it: the tip of its repository (or a commit about to become
//! the tip), read once into values the pkgrel rules and the review gate compare.
//!
//! The `.SRCINFO` is read with alpm-srcinfo, the Arch project's parser, so a file that does not
//! describe a package is an error rather than a guess. The auth comes from the PKGBUILD's
//! `# Distribution:` comment, which the `.SRCINFO` does not carry. Pure.

use std::collections::BTreeSet;
use std::iter;

use alpm_srcinfo::SourceInfoV1;
use alpm_srcinfo::source_info::v1::package::Override;
use alpm_types::{PackageRelease, PackageVersion, RelationOrSoname, SkippableChecksum, SonameV1};

use crate::checked_version::{self, VersionRefusal};
use crate::render::Files;

/// A package as the files of its AUR repository state it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublishedPackage {
    /// The files themselves.
    pub(crate) files: Files,
    pub(crate) pkgver: PackageVersion,
    pub(crate) pkgrel: PackageRelease,
    pub(crate) epoch: Option<u64>,
    /// `license=` of the pkgbase, sorted: their order means nothing.
    pub(crate) licenses: Vec<String>,
    /// `source=` of the pkgbase, in order.
    pub(crate) sources: Vec<PublishedSource>,
    /// Every package name any dependency field mentions, in any section and for any
    /// architecture, without version bounds or optdepends' reasons.
    pub(crate) dependency_names: BTreeSet<String>,
    /// The auth the PKGBUILD's `# Distribution:` line names: `Some(None)` when it names none,
    /// `None` when there is no such line or it cannot be read.
    pub(crate) auth: Option<Option<String>>,
}

/// One `source=` entry with its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublishedSource {
    /// `localname::url` as written in the `.SRCINFO`.
    pub(crate) entry: String,
    /// The `sha256sums=` value at the same position (`SKIP` as such), if there is one.
    pub(crate) sha256: Option<String>,
}

impl PublishedSource {
    /// The URL the source is downloaded from (a URL never holds `::`: render refuses it).
    pub(crate) fn url(&self) -> &str {
        self.entry
            .split_once("::")
            .map_or(self.entry.as_str(), |(_, url)| url)
    }
}

/// Why the files of a package cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TipError {
    #[error("the published .SRCINFO has no {0}")]
    Missing(&'static str),
    /// alpm-srcinfo's message, which quotes the offending line, made safe for a terminal.
    #[error("the published .SRCINFO does not parse: {0}")]
    Invalid(String),
    /// A pkgver the pkgrel rules could not compare with ours without alpm-types panicking.
    #[error("the published .SRCINFO has a {0}")]
    Version(#[from] VersionRefusal),
}

impl PublishedPackage {
    /// Reads the package that `files` hold.
    pub(crate) fn read(files: Files) -> Result<Self, TipError> {
        let srcinfo = SourceInfoV1::from_string(&files.srcinfo).map_err(|e| match e {
            alpm_srcinfo::Error::MissingKeyword { keyword } => TipError::Missing(keyword),
            other => TipError::Invalid(crate::text::for_terminal(&other.to_string())),
        })?;
        let base = &srcinfo.base;
        checked_version::check_pkgver(&base.version.pkgver)?;
        let mut licenses: Vec<String> = base.licenses.iter().map(ToString::to_string).collect();
        licenses.sort_unstable();
        let sums: Vec<String> = base
            .sha256_checksums
            .iter()
            .map(|sum| match sum {
                SkippableChecksum::Skip => "SKIP".to_string(),
                SkippableChecksum::Checksum { digest } => digest.to_string(),
            })
            .collect();
        let sources = source_entries(&files.srcinfo)
            .into_iter()
            .enumerate()
            .map(|(i, entry)| PublishedSource {
                entry,
                sha256: sums.get(i).cloned(),
            })
            .collect();
        Ok(PublishedPackage {
            pkgver: base.version.pkgver.clone(),
            pkgrel: base.version.pkgrel.clone(),
            epoch: base.version.epoch.map(|e| e.0 as u64),
            licenses,
            sources,
            dependency_names: dependency_names(&srcinfo),
            auth: distribution_auth(&files.pkgbuild),
            files,
        })
    }

    /// The URLs of the sources, each once.
    pub(crate) fn source_urls(&self) -> BTreeSet<&str> {
        self.sources.iter().map(PublishedSource::url).collect()
    }
}

/// The pkgbase's `source` values as written, from a `.SRCINFO` alpm-srcinfo has accepted.
/// alpm-types would hand them back canonicalised (`https://a.example` as `https://a.example/`),
/// but the review gate must judge the text makepkg downloads, and the checksum rule compares
/// entries with what render writes. Package sections cannot hold sources.
fn source_entries(srcinfo: &str) -> Vec<String> {
    srcinfo
        .lines()
        .map(str::trim_start)
        .take_while(|l| !l.starts_with("pkgname = "))
        .filter_map(|l| l.strip_prefix("source = "))
        .map(str::to_string)
        .collect()
}

fn dependency_names(srcinfo: &SourceInfoV1) -> BTreeSet<String> {
    let base = &srcinfo.base;
    let base_arch = base.architecture_properties.values();
    let packages = srcinfo.packages.iter();
    let package_arch = packages
        .clone()
        .flat_map(|p| p.architecture_properties.values());
    let depends = iter::once(base.dependencies.as_slice())
        .chain(base_arch.clone().map(|a| a.dependencies.as_slice()))
        .chain(packages.clone().map(|p| overridden(&p.dependencies)))
        .chain(package_arch.clone().map(|a| overridden(&a.dependencies)))
        .flatten()
        .map(relation_or_soname_name);
    let optdepends = iter::once(base.optional_dependencies.as_slice())
        .chain(
            base_arch
                .clone()
                .map(|a| a.optional_dependencies.as_slice()),
        )
        .chain(packages.map(|p| overridden(&p.optional_dependencies)))
        .chain(package_arch.map(|a| overridden(&a.optional_dependencies)))
        .flatten()
        .map(|d| d.name().to_string());
    let build = [&base.check_dependencies, &base.make_dependencies]
        .into_iter()
        .chain(base_arch.flat_map(|a| [&a.check_dependencies, &a.make_dependencies]))
        .flatten()
        .map(|r| r.name.to_string());
    depends.chain(optdepends).chain(build).collect()
}

/// The values a package section sets for a field; none when it keeps or clears the pkgbase's.
fn overridden<T>(field: &Override<Vec<T>>) -> &[T] {
    match field {
        Override::Yes { value } => value,
        Override::No | Override::Clear => &[],
    }
}

/// The name a dependency starts with: a package's, a shared object's, or a soname's
/// library prefix (the `lib` of `lib:libfoo.so.1`).
fn relation_or_soname_name(dependency: &RelationOrSoname) -> String {
    match dependency {
        RelationOrSoname::Relation(relation) => relation.name.to_string(),
        RelationOrSoname::SonameV1(
            SonameV1::Basic(name)
            | SonameV1::Unversioned { name, .. }
            | SonameV1::Explicit { name, .. },
        ) => name.to_string(),
        RelationOrSoname::SonameV2(soname) => soname.prefix.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::model::{BuildSteps, PackageModel};
    use alpm_types::{Name, PackageRelation};

    /// A package with something in every field the reader reads.
    fn model() -> PackageModel {
        let relations = |names: &[&str]| -> Vec<PackageRelation> {
            names.iter().map(|d| d.parse().unwrap()).collect()
        };
        PackageModel {
            pkgname: Name::new("raku-foo").unwrap(),
            pkgver: "1.0".parse().unwrap(),
            pkgrel: PackageRelease::new(1, None),
            epoch: None,
            pkgdesc: "Foo".into(),
            url: "https://raku.land/".into(),
            arch: vec!["any".into()],
            license: vec!["MIT".into(), "Artistic-2.0".into()],
            depends: relations(&["rakudo", "openssl>=3"]),
            makedepends: relations(&["make"]),
            checkdepends: relations(&["perl"]),
            optdepends: vec!["zlib: for compressed files".into()],
            provides: relations(&["raku-foo-bar=1.0"]),
            conflicts: relations(&["raku-bar"]),
            source: vec!["raku-foo-1.0.tar.gz::https://example.org/Foo-1.0.tar.gz".into()],
            sha256sums: vec!["ab".repeat(32)],
            build: BuildSteps {
                dist: "Foo:ver<1.0>:auth<zef:alice>".into(),
                source_dir: "Foo-1.0".into(),
                tests: vec![],
                bin_scripts: vec![],
                license_files: vec![],
                maintainer: "me <me@example.org>".into(),
            },
        }
    }

    /// Files with this `.SRCINFO` and no PKGBUILD.
    fn srcinfo(text: &str) -> Files {
        Files {
            pkgbuild: String::new(),
            srcinfo: text.into(),
        }
    }

    #[test]
    fn a_rendered_package_reads_back_as_rendered() {
        let files = crate::render::files(&model()).unwrap();
        let p = PublishedPackage::read(files.clone()).unwrap();
        assert_eq!(p.files, files);
        assert_eq!(
            (p.pkgver.to_string(), p.pkgrel.to_string(), p.epoch),
            ("1.0".into(), "1".into(), None)
        );
        assert_eq!(p.licenses, ["Artistic-2.0", "MIT"]);
        assert_eq!(
            p.sources,
            [PublishedSource {
                entry: "raku-foo-1.0.tar.gz::https://example.org/Foo-1.0.tar.gz".into(),
                sha256: Some("ab".repeat(32)),
            }]
        );
        assert_eq!(
            Vec::from_iter(p.source_urls()),
            ["https://example.org/Foo-1.0.tar.gz"]
        );
        // Conflicts are no dependency.
        assert_eq!(
            Vec::from_iter(&p.dependency_names),
            ["make", "openssl", "perl", "rakudo", "zlib"]
        );
        assert_eq!(p.auth, Some(Some("zef:alice".into())));
    }

    #[test]
    fn an_epoch_is_read_as_a_number() {
        let mut m = model();
        m.epoch = Some(2);
        m.pkgrel = PackageRelease::new(3, None);
        let p = PublishedPackage::read(crate::render::files(&m).unwrap()).unwrap();
        assert_eq!(
            (p.pkgver.to_string(), p.pkgrel.to_string(), p.epoch),
            ("1.0".into(), "3".into(), Some(2))
        );
    }

    #[test]
    fn published_reads_the_base_section_only() {
        let p = PublishedPackage::read(srcinfo(
            "pkgbase = x\n\tpkgver = 1.2\n\tpkgrel = 2.1\n\tepoch = 3\n\tarch = any\n\tlicense = MIT\n\npkgname = x\n\tlicense = GPL-3.0-only\n",
        ))
        .unwrap();
        assert_eq!(
            (p.pkgver.to_string(), p.pkgrel.to_string(), p.epoch),
            ("1.2".into(), "2.1".into(), Some(3))
        );
        assert_eq!(p.licenses, ["MIT"]);
        assert!(
            PublishedPackage::read(srcinfo(
                "pkgbase = x\n\tpkgrel = 1\n\tarch = any\n\npkgname = x\n"
            ))
            .unwrap_err()
            .to_string()
            .contains("no pkgver")
        );
    }

    #[test]
    fn a_malformed_srcinfo_is_an_error_that_quotes_it_safely() {
        let missing = PublishedPackage::read(srcinfo(
            "pkgbase = x\n\tpkgver = 1\n\tpkgrel = 1\n\npkgname = x\n",
        ));
        assert_eq!(missing, Err(TipError::Missing("arch")));
        let err = PublishedPackage::read(srcinfo(
            "pkgbase = x\n\tpkgver = 1:2\u{1b}[2J\n\tpkgrel = 1\n\tarch = any\n\npkgname = x\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("the published .SRCINFO does not parse: ") && err.contains("pkgver"),
            "{err}"
        );
        assert!(!err.contains('\u{1b}') && err.contains("\\u{1b}"), "{err}");
        // A tip without a .SRCINFO reads as an empty one.
        assert!(matches!(
            PublishedPackage::read(srcinfo("")),
            Err(TipError::Invalid(_))
        ));
    }

    #[test]
    fn a_pkgver_alpm_types_cannot_compare_is_refused_and_huge_numbers_elsewhere_do_not_parse() {
        let huge = "100000000000000000000000";
        let with = |pkgver: &str, pkgrel: &str, epoch: &str| {
            PublishedPackage::read(srcinfo(&format!(
                "pkgbase = x\n\tpkgver = {pkgver}\n\tpkgrel = {pkgrel}\n{epoch}\tarch = any\n\npkgname = x\n"
            )))
        };
        let err = with(&format!("1.{huge}"), "1", "").unwrap_err();
        assert!(matches!(err, TipError::Version(_)), "{err}");
        assert!(err.to_string().contains("cannot compare"), "{err}");
        assert!(matches!(with("1", huge, ""), Err(TipError::Invalid(_))));
        let epoch = format!("\tepoch = {huge}\n");
        assert!(matches!(with("1", "1", &epoch), Err(TipError::Invalid(_))));
        assert!(with(&usize::MAX.to_string(), "1", "").is_ok());
    }

    #[test]
    fn sources_keep_their_text_and_pair_with_their_checksums() {
        let p = PublishedPackage::read(srcinfo(&format!(
            "pkgbase = x\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = any\n\
             \tsource = a.tar.gz::HTTPS://Example.org:443/a/../a.tar.gz\n\tsource = b.patch\n\
             \tsource = https://example.org/c\n\tsha256sums = {}\n\tsha256sums = SKIP\n\
             \npkgname = x\n",
            "AB".repeat(32)
        )))
        .unwrap();
        assert_eq!(
            p.sources,
            [
                PublishedSource {
                    entry: "a.tar.gz::HTTPS://Example.org:443/a/../a.tar.gz".into(),
                    sha256: Some("ab".repeat(32)),
                },
                PublishedSource {
                    entry: "b.patch".into(),
                    sha256: Some("SKIP".into()),
                },
                PublishedSource {
                    entry: "https://example.org/c".into(),
                    sha256: None,
                },
            ]
        );
        assert_eq!(
            Vec::from_iter(p.source_urls()),
            [
                "HTTPS://Example.org:443/a/../a.tar.gz",
                "b.patch",
                "https://example.org/c"
            ]
        );
    }

    #[test]
    fn dependency_names_come_from_every_field_section_and_architecture() {
        let p = PublishedPackage::read(srcinfo(
            "pkgbase = x\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = x86_64\n\
             \tcheckdepends = a>=1\n\tcheckdepends_x86_64 = b\n\tmakedepends = c\n\
             \tmakedepends_x86_64 = d<2\n\tdepends = e=1-1\n\tdepends = libf.so=1-64\n\
             \tdepends = lib:libg.so.1\n\tdepends_x86_64 = h\n\toptdepends = i>=1: for x: y\n\
             \toptdepends_x86_64 = j\n\tprovides = not-a-dependency\n\
             \npkgname = x\n\tdepends = k\n\tdepends_x86_64 = l\n\toptdepends = m: why\n\
             \toptdepends_x86_64 = n\n",
        ))
        .unwrap();
        assert_eq!(
            Vec::from_iter(&p.dependency_names),
            [
                "a", "b", "c", "d", "e", "h", "i", "j", "k", "l", "lib", "libf.so", "m", "n"
            ]
        );
    }

    #[test]
    fn the_auth_is_read_around_an_api() {
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
    }
}
