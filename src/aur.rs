//! What the AUR already has: its bulk metadata (`packages-meta-ext-v1.json.gz`), read once
//! per run, answers three questions — is this distribution already packaged under another
//! name, does this pkgbase belong to someone else, and does every dependency exist.
//!
//! Parsing is pure; fetching lives with the other network code.

use std::collections::BTreeMap;
use std::io::Read;

use alpm_types::{Name, PackageRelation};
use serde::Deserialize;

use crate::checked_version;
use crate::plan::ExistingPackage;

/// One AUR package, as the bulk metadata lists it (only the fields we use).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AurPackage {
    pub name: String,
    /// `[epoch:]pkgver-pkgrel`.
    pub version: String,
    /// The AUR account; `None` for orphans and in snapshots that lack it.
    #[serde(default)]
    pub maintainer: Option<String>,
    #[serde(default)]
    pub depends: Vec<String>,
    #[serde(default)]
    pub provides: Vec<String>,
}

/// A package that runs on rakudo (depends on `rakudo`, `perl6` or `raku`): a Raku module.
fn is_raku_package(p: &AurPackage) -> bool {
    p.depends.iter().any(|d| {
        let name = d.split(['<', '>', '=']).next().unwrap_or_default();
        matches!(name, "rakudo" | "perl6" | "raku")
    })
}

/// The AUR's packages by name, and who provides what.
#[derive(Debug, Default)]
pub struct AurMetadata {
    packages: BTreeMap<String, AurPackage>,
    /// Provided name → (providing package, provided version if any).
    provided: BTreeMap<String, Vec<(String, Option<String>)>>,
}

/// The metadata could not be used; nothing should be published without it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AurMetadataError {
    #[error("AUR metadata is not gzip or is truncated: {0}")]
    Gzip(std::io::Error),
    #[error("AUR metadata is not a JSON array of packages: {0}")]
    Json(serde_json::Error),
}

impl AurMetadata {
    /// Parses the bulk metadata, gzipped or not.
    pub fn parse(bytes: &[u8]) -> Result<Self, AurMetadataError> {
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .map_err(AurMetadataError::Gzip)?;
            out
        } else {
            bytes.to_vec()
        };
        let list: Vec<AurPackage> =
            serde_json::from_slice(&text).map_err(AurMetadataError::Json)?;
        let mut meta = AurMetadata::default();
        for p in list {
            for provide in &p.provides {
                let (name, version) = match provide.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (provide.clone(), None),
                };
                meta.provided
                    .entry(name)
                    .or_default()
                    .push((p.name.clone(), version));
            }
            meta.packages.insert(p.name.clone(), p);
        }
        for providers in meta.provided.values_mut() {
            providers.sort();
        }
        Ok(meta)
    }

    #[cfg(test)]
    fn get(&self, name: &str) -> Option<&AurPackage> {
        self.packages.get(name)
    }

    /// The AUR package that already ships distribution `dist`, if one does — other than our
    /// own `raku-<x>` maintained by `our_account`. Candidates, in this order: `perl6-<x>` (the
    /// hand-written packages, by name or `provides`), a package that `provides` `raku-<x>`, a
    /// `raku-<x>` that someone else maintains, and a package named plainly `<x>` (`zef`,
    /// `cro`). Only a package that runs on rakudo counts: `perl6-junction` is a Perl 5
    /// module and `raku-music-bin` a music player, and neither ships a Raku distribution.
    pub fn existing_for(&self, dist: &str, our_account: &str) -> Option<ExistingPackage> {
        let key = crate::plan::name_stem(dist);
        let ours = format!("{}{key}", crate::plan::PKGNAME_PREFIX);
        let mine = |p: &AurPackage| p.maintainer.as_deref() == Some(our_account);
        let perl6 = format!("perl6-{key}");
        let by_name = |name: &str| {
            let p = self.packages.get(name)?;
            is_raku_package(p).then(|| (p.name.clone(), p.version.clone()))
        };
        let provider_of = |wanted: &str| {
            self.provided.get(wanted)?.iter().find_map(|(by, version)| {
                let p = &self.packages[by];
                (is_raku_package(p) && !(by == &ours && mine(p))).then(|| {
                    let version = version.clone().unwrap_or_else(|| p.version.clone());
                    (by.clone(), version)
                })
            })
        };
        let found = by_name(&perl6)
            .or_else(|| provider_of(&perl6))
            .or_else(|| provider_of(&ours))
            .or_else(|| by_name(&ours).filter(|_| !mine(&self.packages[&ours])))
            .or_else(|| by_name(&key))?;
        Some(ExistingPackage {
            pkgname: Name::new(&found.0).ok()?,
            version: checked_version::parse(&found.1).ok(),
        })
    }

    /// Why the bot may not publish `pkgname`: the name exists on the AUR under another
    /// account (or none: orphans must be adopted first). `None` when it is free or ours.
    pub fn name_taken(&self, pkgname: &str, our_account: &str) -> Option<String> {
        let p = self.packages.get(pkgname)?;
        match p.maintainer.as_deref() {
            Some(account) if account == our_account => None,
            Some(account) => Some(format!(
                "{pkgname} on the AUR belongs to {account} and does not ship this distribution"
            )),
            None => Some(format!(
                "{pkgname} on the AUR is an orphan that does not ship this distribution; adopt it first"
            )),
        }
    }

    /// Whether an AUR package satisfies `relation`, by its name or by what it provides.
    pub fn satisfies(&self, relation: &PackageRelation) -> bool {
        let name = relation.name.to_string();
        let meets = |version: Option<&str>| match &relation.version_requirement {
            None => true,
            Some(req) => version
                .and_then(|v| checked_version::parse(v).ok())
                .is_some_and(|v| req.is_satisfied_by(&v)),
        };
        self.packages
            .get(&name)
            .is_some_and(|p| meets(Some(&p.version)))
            || self
                .provided
                .get(&name)
                .is_some_and(|ps| ps.iter().any(|(_, v)| meets(v.as_deref())))
    }
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
        assert_eq!(meta.packages.len(), 133);
        assert_eq!(meta.get("rakudo").unwrap().version, "2026.04-1");
    }

    #[test]
    fn gzip_is_accepted_and_garbage_refused() {
        let json = br#"[{"Name":"a","PackageBase":"a","Version":"1-1"}]"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, json).unwrap();
        let gz = gz.finish().unwrap();
        assert!(AurMetadata::parse(&gz).unwrap().get("a").is_some());
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
        assert_eq!(e.pkgname.to_string(), "perl6-json-fast");
        assert!(e.version.is_some());
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
        assert_eq!(e.pkgname.to_string(), "perl6-digest");
    }

    #[test]
    fn plain_named_rakudo_tools_count() {
        assert_eq!(
            snapshot()
                .existing_for("zef", "raku-aur-bot")
                .unwrap()
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
        assert!(meta.satisfies(&rel("rakudo")));
        assert!(meta.satisfies(&rel("rakudo>=2026.01")));
        assert!(!meta.satisfies(&rel("rakudo>=2027")));
        assert!(meta.satisfies(&rel("raku-digest")));
        assert!(!meta.satisfies(&rel("perl6-librarymake")));
    }
}
