//! `published.json` in the state directory: per pkgbase, the input last confirmed on the
//! server and the commit that holds it. It advances only after the server confirmed a push,
//! and it is written at once, so a crash never makes the next run push the same thing again.
//! Each push is also kept with its time, read from the clock here (at the edge), so that the
//! status site says when a package last changed from recorded data alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The file's shape.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RecordFile {
    packages: BTreeMap<String, Published>,
}

/// What the server was last confirmed to hold for one package, and its pushes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Published {
    /// sha256 of the files as rendered before pkgrel/epoch adjustment: equal input, nothing to do.
    pub input_digest: String,
    pub commit: String,
    /// The scripts the package installs, so that packages of later runs that are rendered
    /// without it still conflict with it. Records written before it was kept lack it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scripts: Vec<String>,
    /// The pkgver of that input. Records written before it was kept lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkgver: Option<String>,
    /// The pushes this bot made, oldest first, at most [`MAX_PUSHES`]. Records written before
    /// they were kept lack them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushes: Vec<Push>,
}

/// One push the server confirmed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Push {
    pub pkgver: String,
    pub commit: String,
    /// The commit message (`Update to 1.2.3`, `Regenerate: ...`).
    pub message: String,
    /// Seconds since the Unix epoch, when the push was confirmed.
    pub at: u64,
}

/// The history kept per package: enough to show a package's recent life on the status site,
/// while published.json, which every run reads, stays small.
pub const MAX_PUSHES: usize = 20;

/// Every package recorded in `STATE/published.json` (none when the file is missing).
///
/// # Errors
/// When the file cannot be read or is corrupt.
pub fn read(state: &Path) -> anyhow::Result<BTreeMap<String, Published>> {
    Ok(PublishedRecord::load(state)?.file.packages)
}

/// What the server confirmed for one package.
pub(super) struct Confirmed {
    pub(super) input_digest: String,
    pub(super) commit: String,
    pub(super) scripts: Vec<String>,
    pub(super) pkgver: String,
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

    /// Records what the server confirmed for `pkgbase`, on disk at once; `pushed` is the
    /// commit message when this run pushed it (not when the server already had the files).
    ///
    /// # Errors
    /// When the file cannot be written; the record on disk is then the previous one.
    pub(super) fn confirm(
        &mut self,
        pkgbase: &str,
        input: Confirmed,
        pushed: Option<String>,
    ) -> anyhow::Result<()> {
        let mut pushes = self
            .file
            .packages
            .remove(pkgbase)
            .map(|p| p.pushes)
            .unwrap_or_default();
        if let Some(message) = pushed {
            let at = crate::clock::unix_now();
            pushes.push(Push {
                pkgver: input.pkgver.clone(),
                commit: input.commit.clone(),
                message,
                at,
            });
            let excess = pushes.len().saturating_sub(MAX_PUSHES);
            pushes.drain(..excess);
        }
        self.file.packages.insert(
            pkgbase.to_string(),
            Published {
                input_digest: input.input_digest,
                commit: input.commit,
                scripts: input.scripts,
                pkgver: Some(input.pkgver),
                pushes,
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

    fn confirmed(digest: &str, commit: &str, scripts: &[&str]) -> Confirmed {
        Confirmed {
            input_digest: digest.into(),
            commit: commit.into(),
            scripts: scripts.iter().map(|s| s.to_string()).collect(),
            pkgver: "1.0".into(),
        }
    }

    #[test]
    fn pushes_are_kept_with_their_time_and_old_records_stay_readable() {
        let dir = tempfile::tempdir().unwrap();
        // As written before versions and pushes were kept.
        std::fs::write(
            dir.path().join("published.json"),
            r#"{"packages": {"raku-old": {"input_digest": "d0", "commit": "c0"}}}"#,
        )
        .unwrap();
        let mut record = PublishedRecord::load(dir.path()).unwrap();
        assert!(record.holds_input("raku-old", "d0"));
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for n in 0..MAX_PUSHES + 2 {
            let commit = format!("c{n}");
            record
                .confirm(
                    "raku-old",
                    confirmed("d1", &commit, &[]),
                    Some(format!("Update {n}")),
                )
                .unwrap();
        }
        // The server already had these files: recorded, but no push.
        record
            .confirm("raku-old", confirmed("d2", "c-last", &[]), None)
            .unwrap();
        let all = read(dir.path()).unwrap();
        let old = &all["raku-old"];
        assert_eq!(old.commit, "c-last");
        assert_eq!(old.pkgver.as_deref(), Some("1.0"));
        assert_eq!(old.pushes.len(), MAX_PUSHES);
        assert_eq!(old.pushes[0].message, "Update 2");
        let last = old.pushes.last().unwrap();
        assert_eq!(
            (last.commit.as_str(), last.message.as_str()),
            ("c21", "Update 21")
        );
        assert!(last.at >= before, "{} < {before}", last.at);
        assert!(read(&dir.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn a_confirmed_input_is_on_disk_at_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut record = PublishedRecord::load(dir.path()).unwrap();
        assert!(!record.holds_input("raku-foo", "d1"));
        record
            .confirm("raku-foo", confirmed("d1", "c1", &["foo"]), None)
            .unwrap();
        record
            .confirm("raku-bar", confirmed("d2", "c2", &[]), None)
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
