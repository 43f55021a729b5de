//! `STATE/build.json`: per package, its last build (version, outcome, log) and what our
//! repository holds of it. Written after the repository changed, so a run killed in between
//! builds once more at worst; never claims a package the database does not hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

const FILE: &str = "build.json";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BuildRecord {
    #[serde(default)]
    pub packages: BTreeMap<String, BuildEntry>,
}

/// One package's last build, and what the repository holds of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct BuildEntry {
    /// `[epoch:]pkgver-pkgrel` of the last build.
    pub version: String,
    pub outcome: Outcome,
    /// The last build's log, relative to the state directory.
    pub log: String,
    /// The digest of the files the last build was given (see [`crate::render::digest`]).
    pub files_digest: String,
    /// The rakudo version builds got, when rebuilds follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rakudo: Option<String>,
    /// Unix time of the run whose build failed: unchanged files are tried again some time
    /// after, as the failure may have been the network's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<InRepo>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Built,
    Failed,
}

/// What the repository holds of a package.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct InRepo {
    /// The version in the database.
    pub version: String,
    /// The digest of the PKGBUILD and .SRCINFO it was built from, as published (a rebuild's
    /// pkgrel left out).
    pub files_digest: String,
    /// The digest of the input as sync compares it (pkgrel 1, no epoch).
    pub input_digest: String,
    /// The rakudo version it was built against, when rebuilds follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rakudo: Option<String>,
    /// How many times these files were rebuilt for a new rakudo (the pkgrel's minor part).
    #[serde(default)]
    pub rebuild: u64,
    /// Package files in the directory, newest (the database's) first.
    pub files: Vec<String>,
}

impl BuildRecord {
    pub fn path(state: &Path) -> PathBuf {
        state.join(FILE)
    }

    /// The record, or an empty one when there is none yet.
    pub fn load(state: &Path) -> anyhow::Result<BuildRecord> {
        let path = Self::path(state);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a build record", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BuildRecord::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn save(&self, state: &Path) -> anyhow::Result<()> {
        let path = Self::path(state);
        let mut bytes =
            serde_json::to_vec_pretty(self).context("cannot encode the build record")?;
        bytes.push(b'\n');
        crate::fsutil::write_atomically(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_record_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        assert!(BuildRecord::load(dir.path()).unwrap().packages.is_empty());
        let mut record = BuildRecord::default();
        record.packages.insert(
            "raku-foo".into(),
            BuildEntry {
                version: "1.0-1".into(),
                outcome: Outcome::Failed,
                log: "logs/raku-foo/1.0-1.log".into(),
                files_digest: "b".into(),
                rakudo: None,
                failed_at: Some(1_700_000_000),
                repo: Some(InRepo {
                    version: "0.9-1".into(),
                    files_digest: "a".into(),
                    input_digest: "i".into(),
                    rakudo: Some("2026.04-1".into()),
                    rebuild: 0,
                    files: vec!["raku-foo-0.9-1-any.pkg.tar.zst".into()],
                }),
            },
        );
        record.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(BuildRecord::path(dir.path())).unwrap();
        assert!(text.contains("\"outcome\": \"failed\""), "{text}");
        let back = BuildRecord::load(dir.path()).unwrap();
        assert_eq!(back.packages, record.packages);
    }
}
