//! What the AUR already has: its bulk metadata (`packages-meta-ext-v1.json.gz`), read once
//! per run, answers three questions — is this distribution already packaged under another
//! name, does this pkgbase belong to someone else, and does every dependency exist.
//!
//! The file lists about 100,000 packages (80–150 MB of JSON), nearly all of them unrelated to
//! Raku. It is read as a stream, one package at a time, and only what the questions need is
//! kept: every package's name, account and version text, what it provides, and the
//! dependencies of the Raku-related ones ([`is_raku_related`]).
//!
//! Every value in it is a stranger's, and no version reaches alpm-types unchecked
//! ([`crate::checked_version`]). A Raku-related package — one that may stand in for a
//! distribution — is read whole when the file is: if its name, version or any `provides`
//! entry cannot be read or compared, it is skipped ([`AurMetadata::skipped`] says why) and
//! covers and satisfies nothing; its name still counts as taken. The others are only ever
//! asked whether they satisfy a dependency, so their versions are checked then, one at a
//! time, and one that cannot be read satisfies nothing. Parsing is pure; fetching lives with
//! the other network code.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};

use alpm_types::{Name, PackageRelation, Version};
use serde::Deserialize;

use crate::checked_version;
use crate::json_array::{self, ArrayError};
use crate::plan::ExistingPackage;
use crate::read_ahead::read_ahead;
use crate::text::escape_for_log;

/// One package as the bulk metadata lists it, while it is read: only the fields we use
/// (serde skips the others).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPackage<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    /// `[epoch:]pkgver-pkgrel`.
    #[serde(borrow)]
    version: Text<'a>,
    /// The AUR account; `None` for orphans and in snapshots that lack it.
    #[serde(borrow, default)]
    maintainer: Option<Text<'a>>,
    #[serde(borrow, default)]
    depends: Option<Vec<Text<'a>>>,
    #[serde(borrow, default)]
    provides: Option<Vec<Text<'a>>>,
    /// What `raku-aur legacy` shows of a stand-in.
    #[serde(borrow, default)]
    co_maintainers: Option<Vec<Text<'a>>>,
    #[serde(default)]
    out_of_date: Option<i64>,
    #[serde(default)]
    last_modified: Option<i64>,
    #[serde(default)]
    num_votes: Option<u64>,
    #[serde(default)]
    popularity: Option<f64>,
}

/// A string of the file, borrowed from the buffer unless it has escapes. (serde's own `Cow`
/// borrows only as a field of its own, not inside an `Option` or a `Vec`.)
struct Text<'a>(Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// A Raku-related package, with what the decisions about Raku distributions read.
#[derive(Debug, Clone)]
struct AurPackage {
    name: String,
    version: Version,
    maintainer: Option<String>,
    co_maintainers: Vec<String>,
    depends: Vec<String>,
    out_of_date: Option<i64>,
    last_modified: Option<i64>,
    votes: u64,
    popularity: f64,
}

/// An AUR package that claims to ship a distribution, by its name or what it provides, and
/// who maintains it: whether it may stand in is [`crate::stand_ins`]' question.
#[derive(Debug, Clone)]
pub struct Claimant {
    pub package: ExistingPackage,
    /// `None` for an orphan (or a snapshot without maintainers).
    pub maintainer: Option<String>,
    pub co_maintainers: Vec<String>,
}

/// A version as the AUR states it. Reading 100,000 of them with alpm-types took a fifth of
/// the file's parse time, and almost none is ever asked for, so each is read (and checked)
/// only when a question needs it.
#[derive(Debug)]
struct VersionText(Box<str>);

impl VersionText {
    /// The version, if it can be read and alpm-types can compare it.
    fn read(&self) -> Option<Version> {
        checked_version::parse(&self.0).ok()
    }
}

/// Any package, as little of it as the questions about names need.
#[derive(Debug)]
struct Listed {
    /// A package name ([`is_package_name`]).
    name: Box<str>,
    /// Index into [`AurMetadata::accounts`].
    account: Option<u32>,
    /// `None` for a skipped entry: it satisfies nothing.
    version: Option<VersionText>,
}

/// One `provides` entry.
#[derive(Debug)]
struct Provision {
    /// A package name ([`is_package_name`]).
    provided: Box<str>,
    by: Box<str>,
    version: Option<VersionText>,
}

/// A Raku-related entry of the metadata that is not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    /// The package's name, escaped for display.
    pub name: String,
    pub reason: String,
}

/// alpm's rule for a package name (what `alpm_types::Name` accepts), checked without building
/// one: names here are only compared with ours, and there are 100,000 of them.
fn is_package_name(name: &str) -> bool {
    !name.starts_with(['-', '.'])
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._+-".contains(&b))
}

/// The name a dependency or provides entry starts with (before any `<`, `>` or `=`).
fn relation_name(relation: &str) -> &str {
    relation.split(['<', '>', '=']).next().unwrap_or_default()
}

/// A name in the Raku toolchain's or the Raku packages' namespace.
fn is_raku_name(name: &str) -> bool {
    matches!(name, "rakudo" | "perl6" | "raku")
        || name.starts_with("perl6-")
        || name.starts_with(crate::plan::PKGNAME_PREFIX)
}

/// A package that runs on rakudo (depends on `rakudo`, `perl6` or `raku`): a Raku module.
fn is_raku_package(p: &AurPackage) -> bool {
    runs_on_rakudo(&p.depends)
}

fn runs_on_rakudo<S: AsRef<str>>(depends: &[S]) -> bool {
    depends
        .iter()
        .any(|d| matches!(relation_name(d.as_ref()), "rakudo" | "perl6" | "raku"))
}

/// Whether the bot may need a package's details: it runs on rakudo, or its name or something
/// it provides is in the Raku namespaces (`perl6-*`, `raku-*`, the toolchain's names).
fn is_raku_related(p: &RawPackage<'_>) -> bool {
    let depends = p.depends.as_deref().unwrap_or_default();
    let provides = p.provides.as_deref().unwrap_or_default();
    runs_on_rakudo(depends)
        || is_raku_name(&p.name)
        || provides.iter().any(|r| is_raku_name(relation_name(r)))
}

/// The AUR's packages by name, and who provides what.
#[derive(Debug, Default)]
pub struct AurMetadata {
    /// Raku-related packages by name.
    packages: BTreeMap<String, AurPackage>,
    /// Every package with a valid name, sorted by name.
    listed: Vec<Listed>,
    /// Each account once.
    accounts: Vec<Box<str>>,
    /// Sorted by provided name, then provider.
    provided: Vec<Provision>,
    skipped: Vec<SkippedEntry>,
}

/// The metadata could not be used; nothing should be published without it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AurMetadataError {
    #[error("AUR metadata is not gzip or is truncated: {0}")]
    Gzip(std::io::Error),
    #[error("AUR metadata cannot be read: {0}")]
    Read(std::io::Error),
    #[error("AUR metadata is not a JSON array of packages: {0}")]
    Json(serde_json::Error),
}

/// What one read through the file collects.
#[derive(Default)]
struct Collector {
    meta: AurMetadata,
    account_ids: HashMap<String, u32>,
}

impl Collector {
    fn account(&mut self, account: &str) -> Option<u32> {
        if let Some(id) = self.account_ids.get(account) {
            return Some(*id);
        }
        let id = u32::try_from(self.meta.accounts.len()).ok()?;
        self.meta.accounts.push(account.into());
        self.account_ids.insert(account.to_string(), id);
        Some(id)
    }

    fn add(&mut self, raw: RawPackage<'_>) {
        if is_raku_related(&raw) {
            return self.add_raku_related(raw);
        }
        // Nothing can ask for a name that is not a package name.
        if !is_package_name(&raw.name) {
            return;
        }
        let name: Box<str> = raw.name.as_ref().into();
        for provide in raw.provides.iter().flatten() {
            // One that is not `name[=version]` provides nothing.
            if let Some((provided, version)) = split_provide(provide) {
                self.meta.provided.push(Provision {
                    provided: provided.into(),
                    by: name.clone(),
                    version: version.map(|v| VersionText(v.into())),
                });
            }
        }
        let account = raw.maintainer.as_deref().and_then(|m| self.account(m));
        self.meta.listed.push(Listed {
            name,
            account,
            version: Some(VersionText(raw.version.as_ref().into())),
        });
    }

    /// A package that may stand in for a distribution: read whole now, or skipped.
    fn add_raku_related(&mut self, raw: RawPackage<'_>) {
        let skip = |reason: String| SkippedEntry {
            name: escape_for_log(&raw.name),
            reason,
        };
        if !is_package_name(&raw.name) {
            self.meta
                .skipped
                .push(skip("its name is not a package name".to_string()));
            return;
        }
        let provides = raw.provides.as_deref().unwrap_or_default();
        let read = checked_version::parse(&raw.version)
            .map_err(|e| e.to_string())
            .and_then(|version| {
                for provide in provides {
                    read_provide(provide)?;
                }
                Ok(version)
            });
        let name: Box<str> = raw.name.as_ref().into();
        let account = raw.maintainer.as_deref().and_then(|m| self.account(m));
        let version = match read {
            Ok(version) => version,
            Err(reason) => {
                self.meta.skipped.push(skip(reason));
                self.meta.listed.push(Listed {
                    name,
                    account,
                    version: None,
                });
                return;
            }
        };
        for (provided, provided_version) in provides.iter().filter_map(|p| split_provide(p)) {
            self.meta.provided.push(Provision {
                provided: provided.into(),
                by: name.clone(),
                version: provided_version.map(|v| VersionText(v.into())),
            });
        }
        self.meta.packages.insert(
            name.to_string(),
            AurPackage {
                name: name.to_string(),
                version,
                maintainer: raw.maintainer.map(|m| m.0.into_owned()),
                co_maintainers: raw
                    .co_maintainers
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| m.0.into_owned())
                    .collect(),
                out_of_date: raw.out_of_date,
                last_modified: raw.last_modified,
                votes: raw.num_votes.unwrap_or(0),
                popularity: raw.popularity.unwrap_or(0.0),
                depends: raw
                    .depends
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| d.0.into_owned())
                    .collect(),
            },
        );
        self.meta.listed.push(Listed {
            name,
            account,
            version: Some(VersionText(raw.version.as_ref().into())),
        });
    }

    fn finish(self) -> AurMetadata {
        let mut meta = self.meta;
        // Names are unique on the AUR; were they not, a look-up would find one of them.
        meta.listed.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        meta.provided
            .sort_unstable_by(|a, b| (&a.provided, &a.by).cmp(&(&b.provided, &b.by)));
        meta.listed.shrink_to_fit();
        meta.provided.shrink_to_fit();
        meta.accounts.shrink_to_fit();
        meta
    }
}

/// A `provides` entry, `name` or `name=version`, as its name and version text.
fn split_provide(text: &str) -> Option<(&str, Option<&str>)> {
    let name = relation_name(text);
    if !is_package_name(name) {
        return None;
    }
    match &text[name.len()..] {
        "" => Some((name, None)),
        rest => Some((name, Some(rest.strip_prefix('=')?))),
    }
}

/// Checks a `provides` entry of a Raku-related package: a name, and a version alpm-types can
/// compare if it has one.
fn read_provide(text: &str) -> Result<(), String> {
    let (_, version) = split_provide(text).ok_or_else(|| {
        format!(
            "provides {}, which is not `name` or `name=version`",
            escape_for_log(text)
        )
    })?;
    if let Some(version) = version {
        checked_version::parse(version).map_err(|e| format!("provides {e}"))?;
    }
    Ok(())
}

impl AurMetadata {
    /// Parses the bulk metadata held in memory, gzipped or not.
    pub fn parse(bytes: &[u8]) -> Result<Self, AurMetadataError> {
        Self::read(bytes)
    }

    /// Reads the bulk metadata, gzipped or not, as a stream: neither the file nor its
    /// decompressed text is ever held whole. Gzip is inflated on a second thread.
    pub fn read(reader: impl Read + Send) -> Result<Self, AurMetadataError> {
        let mut reader = BufReader::new(reader);
        let head = reader.fill_buf().map_err(AurMetadataError::Read)?;
        let mut collector = Collector::default();
        if head.starts_with(&[0x1f, 0x8b]) {
            let text = flate2::bufread::GzDecoder::new(reader);
            read_ahead(text, |text| read_packages(text, &mut collector)).map_err(|e| match e {
                AurMetadataError::Read(io) => AurMetadataError::Gzip(io),
                other => other,
            })?;
        } else {
            read_packages(reader, &mut collector)?;
        }
        Ok(collector.finish())
    }

    /// The Raku-related entries that are not used, and why, in the file's order.
    pub fn skipped(&self) -> &[SkippedEntry] {
        &self.skipped
    }

    fn listed(&self, name: &str) -> Option<&Listed> {
        let at = self
            .listed
            .binary_search_by(|l| l.name.as_ref().cmp(name))
            .ok()?;
        self.listed.get(at)
    }

    /// Who provides `name`, in the order of their names.
    fn providers(&self, name: &str) -> &[Provision] {
        let start = self
            .provided
            .partition_point(|p| p.provided.as_ref() < name);
        let len = self.provided[start..].partition_point(|p| p.provided.as_ref() == name);
        &self.provided[start..start + len]
    }

    /// The AUR package that already ships distribution `dist`, if one does — other than our
    /// own `raku-<x>` maintained by `our_account`. Candidates, in this order: `perl6-<x>` (the
    /// hand-written packages, by name or `provides`), a package that `provides` `raku-<x>`, a
    /// `raku-<x>` that someone else maintains, and a package named plainly `<x>` (`zef`,
    /// `cro`). Only a package that runs on rakudo counts: `perl6-junction` is a Perl 5
    /// module and `raku-music-bin` a music player, and neither ships a Raku distribution.
    pub fn existing_for(&self, dist: &str, our_account: &str) -> Option<Claimant> {
        let key = crate::plan::name_stem(dist);
        let ours = format!("{}{key}", crate::plan::PKGNAME_PREFIX);
        let mine = |p: &AurPackage| p.maintainer.as_deref() == Some(our_account);
        let perl6 = format!("perl6-{key}");
        let by_name = |name: &str| {
            let p = self.packages.get(name)?;
            is_raku_package(p).then(|| (p.name.clone(), p.version.clone()))
        };
        let provider_of = |wanted: &str| {
            self.providers(wanted).iter().find_map(|provision| {
                let p = self.packages.get(provision.by.as_ref())?;
                if !is_raku_package(p) || (p.name == ours && mine(p)) {
                    return None;
                }
                let version = match &provision.version {
                    Some(text) => text.read()?,
                    None => p.version.clone(),
                };
                Some((p.name.clone(), version))
            })
        };
        let found = by_name(&perl6)
            .or_else(|| provider_of(&perl6))
            .or_else(|| provider_of(&ours))
            .or_else(|| by_name(&ours).filter(|_| !self.packages.get(&ours).is_some_and(mine)))
            .or_else(|| by_name(&key))?;
        let p = self.packages.get(&found.0)?;
        Some(Claimant {
            maintainer: p.maintainer.clone(),
            co_maintainers: p.co_maintainers.clone(),
            package: ExistingPackage {
                pkgname: Name::new(&found.0).ok()?,
                version: Some(found.1),
            },
        })
    }

    /// The published versions of the packages `our_account` maintains, by name; a version
    /// that cannot be read is left out (its package then gets no epoch from here).
    pub fn versions_of(&self, our_account: &str) -> BTreeMap<String, Version> {
        let Some(id) = self.accounts.iter().position(|a| a.as_ref() == our_account) else {
            return BTreeMap::new();
        };
        self.listed
            .iter()
            .filter(|l| l.account.and_then(|a| usize::try_from(a).ok()) == Some(id))
            .filter_map(|l| Some((l.name.to_string(), l.version.as_ref()?.read()?)))
            .collect()
    }

    /// Whether the AUR has a package named `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.listed(name).is_some()
    }

    /// What `raku-aur legacy` shows of the stand-in `name`.
    pub(crate) fn facts(&self, name: &str) -> Option<crate::legacy::AurFacts> {
        let p = self.packages.get(name)?;
        Some(crate::legacy::AurFacts {
            name: p.name.clone(),
            version: p.version.to_string(),
            maintainer: p.maintainer.clone(),
            out_of_date: p.out_of_date,
            last_modified: p.last_modified,
            votes: p.votes,
            popularity: p.popularity,
        })
    }

    fn account_of(&self, listed: &Listed) -> Option<&str> {
        let id = usize::try_from(listed.account?).ok()?;
        self.accounts.get(id).map(AsRef::as_ref)
    }

    /// Why the bot may not publish `pkgname`: the name exists on the AUR under another
    /// account (or none: orphans must be adopted first). `None` when it is free or ours.
    pub fn name_taken(&self, pkgname: &str, our_account: &str) -> Option<String> {
        let listed = self.listed(pkgname)?;
        let account = listed
            .account
            .and_then(|id| self.accounts.get(usize::try_from(id).ok()?));
        match account.map(AsRef::as_ref) {
            Some(account) if account == our_account => None,
            Some(account) => Some(format!(
                "{pkgname} on the AUR belongs to {} and does not ship this distribution",
                escape_for_log(account)
            )),
            None => Some(format!(
                "{pkgname} on the AUR is an orphan that does not ship this distribution; adopt it first"
            )),
        }
    }

    /// Whether an AUR package that `accept`s (by its name and maintainer) satisfies
    /// `relation`, by its name or by what it provides. A version that cannot be read
    /// satisfies nothing, not even a need without a bound.
    pub fn satisfies_by(
        &self,
        relation: &PackageRelation,
        accept: impl Fn(&str, Option<&str>) -> bool,
    ) -> bool {
        let accepted = |name: &str| {
            self.listed(name)
                .is_some_and(|l| accept(&l.name, self.account_of(l)))
        };
        let name = relation.name.as_ref();
        let meets = |version: Option<Version>| match &relation.version_requirement {
            None => true,
            Some(req) => version.is_some_and(|v| req.is_satisfied_by(&v)),
        };
        let by_name = accepted(name)
            && self
                .listed(name)
                .and_then(|l| l.version.as_ref())
                .and_then(VersionText::read)
                .is_some_and(|v| meets(Some(v)));
        by_name
            || self
                .providers(name)
                .iter()
                .filter(|p| accepted(&p.by))
                .any(|p| {
                    let provider = self.listed(&p.by).and_then(|l| l.version.as_ref());
                    match (&p.version, provider.and_then(VersionText::read)) {
                        // A provider whose own version cannot be read provides nothing.
                        (_, None) => false,
                        (None, Some(_)) => meets(None),
                        (Some(text), Some(_)) => text.read().is_some_and(|v| meets(Some(v))),
                    }
                })
    }
}

/// Reads the top-level array from `text` into `collector`, one package at a time.
fn read_packages(text: impl Read, collector: &mut Collector) -> Result<(), AurMetadataError> {
    json_array::for_each_element(text, |bytes| {
        let mut one = serde_json::Deserializer::from_slice(bytes).into_iter::<RawPackage>();
        let raw = one
            .next()
            .unwrap_or_else(|| Err(serde::de::Error::custom("expected a package")))?;
        collector.add(raw);
        Ok(one.byte_offset())
    })
    .map_err(|e| match e {
        ArrayError::Read(io) => AurMetadataError::Read(io),
        ArrayError::Json(json) => AurMetadataError::Json(json),
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn snapshot() -> AurMetadata {
        let path = format!(
            "{}/tests/data/aur-raku-packages-meta.json",
            env!("CARGO_MANIFEST_DIR")
        );
        AurMetadata::parse(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn the_real_snapshot_parses() {
        let meta = snapshot();
        assert_eq!(meta.listed.len(), 133);
        assert!(meta.skipped().is_empty(), "{:?}", meta.skipped());
        assert_eq!(meta.packages["rakudo"].version.to_string(), "2026.04-1");
    }

    #[test]
    fn only_raku_related_packages_keep_their_details() {
        let meta = snapshot();
        // moarvm and nqp neither run on rakudo nor carry a Raku name.
        assert!(!meta.packages.contains_key("moarvm"));
        assert!(meta.satisfies_by(
            &PackageRelation::from_str("moarvm>=2026.01").unwrap(),
            |_, _| true
        ));
        // A Perl 5 module and a music player, kept for their names; rakudo-bin provides raku.
        for name in [
            "perl6-junction",
            "raku-music-bin",
            "perl6-json-fast",
            "zef",
            "rakudo-bin",
        ] {
            assert!(meta.packages.contains_key(name), "{name}");
        }
    }

    #[test]
    fn gzip_is_accepted_and_garbage_refused() {
        let json = br#"[{"Name":"a","PackageBase":"a","Version":"1-1"}]"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, json).unwrap();
        let gz = gz.finish().unwrap();
        assert!(AurMetadata::parse(&gz).unwrap().listed("a").is_some());
        assert!(matches!(
            AurMetadata::parse(&gz[..gz.len() / 2]),
            Err(AurMetadataError::Gzip(_))
        ));
        assert!(matches!(
            AurMetadata::parse(b"{}"),
            Err(AurMetadataError::Json(_))
        ));
    }

    #[test]
    fn hand_written_perl6_packages_are_found() {
        let meta = snapshot();
        let e = meta.existing_for("JSON::Fast", "raku-aur-bot").unwrap();
        assert_eq!(e.package.pkgname.to_string(), "perl6-json-fast");
        assert!(e.package.version.is_some());
        assert!(
            meta.existing_for("No::Such::Thing", "raku-aur-bot")
                .is_none()
        );
    }

    #[test]
    fn provides_of_raku_names_count() {
        // perl6-digest provides raku-digest-ripemd (and more), per the snapshot's README.
        let e = snapshot()
            .existing_for("Digest::RIPEMD", "raku-aur-bot")
            .unwrap();
        assert_eq!(e.package.pkgname.to_string(), "perl6-digest");
    }

    #[test]
    fn plain_named_rakudo_tools_count() {
        assert_eq!(
            snapshot()
                .existing_for("zef", "raku-aur-bot")
                .unwrap()
                .package
                .pkgname
                .to_string(),
            "zef"
        );
    }

    #[test]
    fn packages_that_do_not_run_on_rakudo_never_count() {
        let meta = snapshot();
        // perl6-junction is the Perl 5 module Perl6::Junction; raku-music-bin a music player.
        assert!(meta.existing_for("Junction", "raku-aur-bot").is_none());
        assert!(meta.existing_for("Music", "raku-aur-bot").is_none());
        assert_eq!(
            meta.name_taken("raku-music-bin", "raku-aur-bot").unwrap(),
            "raku-music-bin on the AUR is an orphan that does not ship this distribution; adopt it first"
        );
        assert!(meta.name_taken("raku-json-fast", "raku-aur-bot").is_none());
    }

    #[test]
    fn satisfies_by_name_version_and_provides() {
        let meta = snapshot();
        let rel = |s: &str| PackageRelation::from_str(s).unwrap();
        assert!(meta.satisfies_by(&rel("rakudo"), |_, _| true));
        assert!(meta.satisfies_by(&rel("rakudo>=2026.01"), |_, _| true));
        assert!(!meta.satisfies_by(&rel("rakudo>=2027"), |_, _| true));
        assert!(meta.satisfies_by(&rel("raku-digest"), |_, _| true));
        assert!(!meta.satisfies_by(&rel("perl6-librarymake"), |_, _| true));
    }

    fn metadata(packages: serde_json::Value) -> AurMetadata {
        AurMetadata::parse(&serde_json::to_vec(&packages).unwrap()).unwrap()
    }

    const HUGE: &str = "100000000000000000000000";

    #[test]
    fn a_provide_alpm_types_cannot_compare_makes_the_package_count_for_nothing() {
        let meta = metadata(serde_json::json!([
            {"Name": "rakudo", "Version": "2026.04-1", "Maintainer": "someone"},
            {"Name": "totally-legit", "Version": "1-1", "Maintainer": "stranger",
             "Depends": ["rakudo"], "Provides": [format!("raku-json-fast={HUGE}"), "raku-other"]},
        ]));
        let rel = |s: &str| PackageRelation::from_str(s).unwrap();
        assert!(meta.existing_for("JSON::Fast", "bot").is_none());
        assert!(meta.existing_for("Other", "bot").is_none());
        assert!(!meta.satisfies_by(&rel("raku-json-fast>=1"), |_, _| true));
        assert!(!meta.satisfies_by(&rel("raku-other"), |_, _| true));
        assert!(!meta.satisfies_by(&rel("totally-legit"), |_, _| true));
        // Its name is still not ours.
        assert!(meta.name_taken("totally-legit", "bot").is_some());
        let skipped = meta.skipped();
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].name, "totally-legit");
        assert!(
            skipped[0].reason.contains(HUGE) && skipped[0].reason.contains("cannot compare"),
            "{}",
            skipped[0].reason
        );
    }

    #[test]
    fn raku_related_entries_that_cannot_be_read_are_skipped_with_a_reason() {
        let meta = metadata(serde_json::json!([
            {"Name": "perl6-a", "Version": format!("1.{HUGE}-1"), "Depends": ["perl6"]},
            {"Name": "perl6-b", "Version": format!("{HUGE}:1-1"), "Depends": ["perl6"]},
            {"Name": "perl6-c", "Version": "1-1", "Depends": ["perl6"], "Provides": ["raku-c>=1"]},
            {"Name": "perl6-d", "Version": "1-1", "Depends": ["perl6"], "Provides": ["raku d"]},
            {"Name": "perl6 e\u{1b}[31m", "Version": "1-1", "Depends": ["perl6"]},
            {"Name": "fine", "Version": "1-1", "Maintainer": null, "Depends": null, "Provides": null},
        ]));
        let skipped: Vec<&str> = meta.skipped().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            skipped,
            [
                "perl6-a",
                "perl6-b",
                "perl6-c",
                "perl6-d",
                "\"perl6 e\\u{1b}[31m\""
            ]
        );
        for s in meta.skipped() {
            assert!(!s.reason.contains('\u{1b}'), "{}", s.reason);
        }
        for dist in ["A", "B", "C", "D"] {
            assert!(meta.existing_for(dist, "bot").is_none(), "{dist}");
        }
        let rel = |s: &str| PackageRelation::from_str(s).unwrap();
        for need in ["perl6-a", "perl6-c", "raku-c", "perl6-d"] {
            assert!(!meta.satisfies_by(&rel(need), |_, _| true), "{need}");
        }
        assert!(meta.satisfies_by(&rel("fine=1"), |_, _| true));
        assert!(meta.name_taken("perl6-a", "bot").is_some());
    }

    #[test]
    fn other_packages_versions_are_checked_when_asked_for() {
        let meta = metadata(serde_json::json!([
            {"Name": "huge", "Version": format!("{HUGE}-1"), "Provides": ["huge-alias", "p=1"]},
            {"Name": "odd", "Version": "1-1", "Provides": [format!("q={HUGE}"), "r>=2", "s=2", "t t"]},
            {"Name": "Not a name", "Version": "1-1"},
        ]));
        assert!(meta.skipped().is_empty(), "{:?}", meta.skipped());
        let rel = |s: &str| PackageRelation::from_str(s).unwrap();
        // A version that cannot be compared satisfies nothing, bound or no bound, and
        // neither does what its package provides.
        for need in ["huge", "huge>=1", "huge-alias", "p", "p=1"] {
            assert!(!meta.satisfies_by(&rel(need), |_, _| true), "{need}");
        }
        // Each provides entry counts on its own.
        assert!(
            !meta.satisfies_by(&rel("q>=1"), |_, _| true)
                && !meta.satisfies_by(&rel("q"), |_, _| true)
        );
        assert!(!meta.satisfies_by(&rel("r"), |_, _| true));
        assert!(
            meta.satisfies_by(&rel("s>=2"), |_, _| true)
                && !meta.satisfies_by(&rel("s>2"), |_, _| true)
        );
        assert!(meta.satisfies_by(&rel("odd>=1"), |_, _| true));
        assert!(meta.name_taken("huge", "bot").is_some());
    }

    #[test]
    fn accounts_are_told_apart_and_escaped() {
        let meta = metadata(serde_json::json!([
            {"Name": "raku-a", "Version": "1-1", "Maintainer": "bot"},
            {"Name": "raku-b", "Version": "1-1", "Maintainer": "other"},
            {"Name": "raku-c", "Version": "1-1", "Maintainer": "bot"},
            {"Name": "raku-d", "Version": "1-1", "Maintainer": "evil\u{1b}]0;x\u{7}"},
        ]));
        assert_eq!(meta.accounts.len(), 3);
        assert!(meta.name_taken("raku-a", "bot").is_none());
        assert!(meta.name_taken("raku-c", "bot").is_none());
        assert!(
            meta.name_taken("raku-b", "bot")
                .unwrap()
                .contains("belongs to other")
        );
        let evil = meta.name_taken("raku-d", "bot").unwrap();
        assert!(
            !evil.contains('\u{1b}') && !evil.contains('\u{7}'),
            "{evil}"
        );
        assert!(meta.name_taken("raku-e", "bot").is_none());
    }

    #[test]
    fn a_stream_is_read_the_same_as_bytes_and_trailing_garbage_is_refused() {
        let path = format!(
            "{}/tests/data/aur-raku-packages-meta.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let streamed = AurMetadata::read(std::fs::File::open(&path).unwrap()).unwrap();
        let names = |m: &AurMetadata| -> Vec<String> {
            m.listed.iter().map(|l| l.name.to_string()).collect()
        };
        assert_eq!(names(&streamed), names(&snapshot()));
        // Escaped strings cannot be borrowed from the buffer, and read the same.
        let escaped = AurMetadata::parse(
            br#"[{"Name":"perl6-\u0078","Version":"1-1","Maintainer":"m\u00e9","Depends":["rak\u0075do"]}]"#,
        )
        .unwrap();
        assert_eq!(
            escaped
                .existing_for("X", "bot")
                .unwrap()
                .package
                .pkgname
                .to_string(),
            "perl6-x"
        );
        assert!(
            escaped
                .name_taken("perl6-x", "bot")
                .unwrap()
                .contains("m\u{e9}")
        );
        assert!(matches!(
            AurMetadata::parse(b"[] []"),
            Err(AurMetadataError::Json(_))
        ));
        assert!(matches!(
            AurMetadata::parse(br#"[{"Name": "a"}]"#),
            Err(AurMetadataError::Json(_))
        ));
    }
}
