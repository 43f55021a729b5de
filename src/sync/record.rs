//! `published.json` in the state directory: per pkgbase, the input last confirmed on the
//! server and the commit that holds it. It advances only after the server confirmed a push,
//! and it is written at once, so a crash never makes the next run push the same thing again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The file's shape.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RecordFile {
    packages: BTreeMap<String, PublishedEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct PublishedEntry {
    /// sha256 of the files as rendered before pkgrel/epoch adjustment: equal input, nothing to do.
    input_digest: String,
    commit: String,
    /// The scripts the package installs, so that packages of later runs that are rendered
    /// without it still conflict with it. Records written before it was kept lack it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scripts: Vec<String>,
}

/// What was last confirmed on the server, per pkgbase.
pub(super) struct PublishedRecord {
    path: PathBuf,
    file: RecordFile,
}

impl PublishedRecord {
    /// Reads `STATE/published.json`; a missing file is an empty record.
    ///
    /// # Errors
    /// When the file cannot be read or is corrupt.
    pub(super) fn load(state: &Path) -> anyhow::Result<Self> {
        let path = state.join("published.json");
        let file = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is corrupt; move it aside and the next run re-reads every repository",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => RecordFile::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(PublishedRecord { path, file })
    }

    /// Whether the server was last confirmed to hold exactly this input for `pkgbase`.
    pub(super) fn holds_input(&self, pkgbase: &str, input_digest: &str) -> bool {
        self.file
            .packages
            .get(pkgbase)
            .is_some_and(|p| p.input_digest == input_digest)
    }

    /// Every package ever confirmed on the server, sorted.
    pub(super) fn names(&self) -> impl Iterator<Item = &String> {
        self.file.packages.keys()
    }

    /// Whether `pkgbase` was ever confirmed on the server.
    pub(super) fn has(&self, pkgbase: &str) -> bool {
        self.file.packages.contains_key(pkgbase)
    }

    /// The scripts of every package recorded, by name (packages without any left out).
    pub(super) fn scripts(&self) -> BTreeMap<String, Vec<String>> {
        self.file
            .packages
            .iter()
            .filter(|(_, e)| !e.scripts.is_empty())
            .map(|(name, e)| (name.clone(), e.scripts.clone()))
            .collect()
    }

    /// Records what the server confirmed for `pkgbase`, on disk at once.
    ///
    /// # Errors
    /// When the file cannot be written; the record on disk is then the previous one.
    pub(super) fn confirm(
        &mut self,
        pkgbase: &str,
        input_digest: String,
        commit: String,
        scripts: Vec<String>,
    ) -> anyhow::Result<()> {
        self.file.packages.insert(
            pkgbase.to_string(),
            PublishedEntry {
                input_digest,
                commit,
                scripts,
            },
        );
        let json = serde_json::to_vec_pretty(&self.file).expect("published record serialises");
        crate::fsutil::write_atomically(&self.path, &json)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmed_input_is_on_disk_at_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut record = PublishedRecord::load(dir.path()).unwrap();
        assert!(!record.holds_input("raku-foo", "d1"));
        record
            .confirm("raku-foo", "d1".into(), "c1".into(), vec!["foo".into()])
            .unwrap();
        record
            .confirm("raku-bar", "d2".into(), "c2".into(), vec![])
            .unwrap();
        let again = PublishedRecord::load(dir.path()).unwrap();
        assert!(again.holds_input("raku-foo", "d1"));
        assert_eq!(
            again.scripts(),
            [("raku-foo".to_string(), vec!["foo".to_string()])].into()
        );
        assert!(!again.holds_input("raku-foo", "d2"));
        assert!(!again.holds_input("raku-bar", "d1"));
    }

    #[test]
    fn a_corrupt_record_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("published.json"), "{not json").unwrap();
        let e = PublishedRecord::load(dir.path()).err().unwrap();
        assert!(
            format!("{e:#}").contains("is corrupt; move it aside"),
            "{e:#}"
        );
    }
}
