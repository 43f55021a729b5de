//! Reading what the state directory holds for the site: `published.json`, the review queue,
//! the last run's `report.json`, and the build farm's `build.json` and logs (issue 14's
//! contract: `logs/<pkgbase>/<version>.log`). A missing file is an empty record.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use super::model::{Build, LastRun};
use crate::review::queue::{Entry, Queue};
use crate::sync::{PackageStatus, Published};

/// Everything of the state directory the site shows.
pub struct StateRecords {
    pub published: BTreeMap<String, Published>,
    pub queue: BTreeMap<String, Entry>,
    pub builds: BTreeMap<String, Build>,
    pub last_run: BTreeMap<String, LastRun>,
}

/// Reads the records of `state`.
///
/// # Errors
/// When a file is there but cannot be read or parsed.
pub fn read(state: &Path) -> anyhow::Result<StateRecords> {
    let published = crate::sync::read_published(state)?;
    let (queue, unreadable) = Queue::new(state).load()?;
    for (stem, why) in unreadable {
        tracing::warn!(entry = %crate::text::escape_for_log(&stem), %why, "review entry left off the site");
    }
    Ok(StateRecords {
        published,
        queue,
        builds: builds(state)?,
        last_run: last_run(state)?,
    })
}

/// `STATE/<name>`, parsed; `None` when it does not exist.
fn json_file<T: for<'de> Deserialize<'de>>(state: &Path, name: &str) -> anyhow::Result<Option<T>> {
    let path = state.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{} is corrupt", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[derive(Deserialize)]
struct BuildFile {
    #[serde(default)]
    packages: BTreeMap<String, BuildEntry>,
}

#[derive(Deserialize)]
struct BuildEntry {
    version: String,
    outcome: String,
}

fn builds(state: &Path) -> anyhow::Result<BTreeMap<String, Build>> {
    let file: Option<BuildFile> = json_file(state, "build.json")?;
    Ok(file
        .map(|f| f.packages)
        .unwrap_or_default()
        .into_iter()
        .map(|(pkgbase, e)| {
            let build = Build {
                version: e.version,
                failed: e.outcome == "failed",
            };
            (pkgbase, build)
        })
        .collect())
}

#[derive(Deserialize)]
struct ReportFile {
    #[serde(default)]
    packages: Vec<ReportEntry>,
}

#[derive(Deserialize)]
struct ReportEntry {
    pkgbase: String,
    status: PackageStatus,
    detail: String,
}

fn last_run(state: &Path) -> anyhow::Result<BTreeMap<String, LastRun>> {
    let file: Option<ReportFile> = json_file(state, "report.json")?;
    Ok(file
        .map(|f| f.packages)
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let run = LastRun {
                status: e.status,
                detail: e.detail,
            };
            (e.pkgbase, run)
        })
        .collect())
}

/// The log of `pkgbase`'s build of `version`, or a line saying why it is not there. Only a
/// version made of a version's characters becomes part of a path; the farm names logs
/// `<pkgver>-<pkgrel>.log`, without the epoch.
pub fn build_log(state: &Path, pkgbase: &str, version: &str) -> Vec<u8> {
    let plain = !version.is_empty()
        && !version.starts_with('.')
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:+_~-".contains(c));
    if !plain {
        return b"the build log is not available: build.json names an odd version\n".to_vec();
    }
    let without_epoch = version.split_once(':').map_or(version, |(_, v)| v);
    let path = state
        .join("logs")
        .join(pkgbase)
        .join(format!("{without_epoch}.log"));
    std::fs::read(&path)
        .unwrap_or_else(|e| format!("the build log is not available: {e}\n").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_outcomes_and_the_last_run_are_read_and_unknown_fields_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        let empty = read(state).unwrap();
        assert!(empty.builds.is_empty() && empty.last_run.is_empty() && empty.published.is_empty());
        std::fs::write(
            state.join("build.json"),
            r#"{"farm": 1, "packages": {
                "raku-a": {"version": "1:1.2-3", "outcome": "failed", "log": "logs/raku-a/1:1.2-3.log", "took": 9},
                "raku-b": {"version": "2-1", "outcome": "built", "log": "logs/raku-b/2-1.log"}}}"#,
        )
        .unwrap();
        std::fs::write(
            state.join("report.json"),
            r#"{"dry_run": false, "packages": [{"pkgbase": "raku-c", "pkgver": "1", "status": "failed", "detail": "refused"}], "held": []}"#,
        )
        .unwrap();
        let records = read(state).unwrap();
        assert_eq!(
            records.builds["raku-a"],
            Build {
                version: "1:1.2-3".into(),
                failed: true
            }
        );
        assert!(!records.builds["raku-b"].failed);
        assert_eq!(
            records.last_run["raku-c"],
            LastRun {
                status: PackageStatus::Failed,
                detail: "refused".into()
            }
        );
    }

    #[test]
    fn a_log_is_read_from_its_place_and_an_odd_version_is_not_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs/raku-a");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join("1.2-3.log"), "<b>make</b>\n").unwrap();
        assert_eq!(build_log(dir.path(), "raku-a", "1:1.2-3"), b"<b>make</b>\n");
        let odd = build_log(dir.path(), "raku-a", "../../../etc/passwd");
        assert!(String::from_utf8(odd).unwrap().contains("odd version"));
        let missing = build_log(dir.path(), "raku-a", "2-1");
        assert!(
            String::from_utf8(missing)
                .unwrap()
                .contains("not available")
        );
    }
}
