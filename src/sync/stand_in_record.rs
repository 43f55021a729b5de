//! `stand-ins.json` in the state directory: every distribution an AUR package has stood in
//! for, and which package. When that package leaves the AUR (deleted, or merged into
//! another), the distribution is published as ours with `provides` and `conflicts` of the
//! old name, so that installing ours replaces it on users' machines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Distribution name → the AUR package that stood in for it.
pub(super) struct StandInRecord {
    path: PathBuf,
    seen: BTreeMap<String, String>,
}

impl StandInRecord {
    /// Reads `STATE/stand-ins.json`; a missing file is an empty record.
    ///
    /// # Errors
    /// When the file cannot be read or is corrupt.
    pub(super) fn load(state: &Path) -> anyhow::Result<Self> {
        let path = state.join("stand-ins.json");
        let seen = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is corrupt; move it aside (packages that replace a vanished stand-in \
                     then lose its name in provides and conflicts)",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(StandInRecord { path, seen })
    }

    pub(super) fn seen(&self) -> &BTreeMap<String, String> {
        &self.seen
    }

    /// Adds the stand-ins of this run; writes the file only when something is new.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub(super) fn remember(
        &mut self,
        covered: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<()> {
        let mut changed = false;
        for (dist, package) in covered {
            if self.seen.get(&dist) != Some(&package) {
                self.seen.insert(dist, package);
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
        let mut json = serde_json::to_vec_pretty(&self.seen).expect("the record serialises");
        json.push(b'\n');
        crate::fsutil::write_atomically(&self.path, &json)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_remembered_and_the_file_is_written_only_on_news() {
        let dir = tempfile::tempdir().unwrap();
        let mut record = StandInRecord::load(dir.path()).unwrap();
        assert!(record.seen().is_empty());
        record
            .remember([("JSON::Fast".to_string(), "perl6-json-fast".to_string())])
            .unwrap();
        let path = dir.path().join("stand-ins.json");
        let written = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut again = StandInRecord::load(dir.path()).unwrap();
        assert_eq!(again.seen()["JSON::Fast"], "perl6-json-fast");
        again
            .remember([("JSON::Fast".to_string(), "perl6-json-fast".to_string())])
            .unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            written
        );
    }
}
