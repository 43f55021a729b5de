//! The set-up the sync-style suites share: one temporary directory holding the index
//! (`index.json`), the AUR metadata (`aur.json`), the pinned host key of the AUR stand-in
//! (`known_hosts`) and the tarballs (`archive/`), which a local HTTP server serves. Each suite
//! wraps this in its own `World` with the helpers only it needs.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::fixtures::{self, REA_ARCHIVE_PREFIX};
use super::http::TestServer;
use super::sshd::{self, AurServer};

/// AUR metadata with rakudo, which every package needs, plus `extra`.
pub fn aur_metadata(extra: &[Value]) -> Value {
    let mut packages = vec![json!({
        "Name": "rakudo", "PackageBase": "rakudo", "Version": "2026.04-1", "Maintainer": "someone",
        "Provides": ["perl6"]
    })];
    packages.extend_from_slice(extra);
    Value::Array(packages)
}

/// The `report.json` a run wrote into `state`.
pub fn read_report(state: &Path) -> Value {
    let path = state.join("report.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{} is corrupt: {e}", path.display()))
}

/// The status and detail `report` gives `pkgbase`.
pub fn report_status(report: &Value, pkgbase: &str) -> (String, String) {
    let package = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pkgbase"] == pkgbase)
        .unwrap_or_else(|| panic!("{pkgbase} is not in the report: {report}"));
    (
        package["status"].as_str().unwrap().to_string(),
        package["detail"].as_str().unwrap().to_string(),
    )
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub http: TestServer,
    pub aur: AurServer,
}

impl World {
    /// Packs `entries`' archives, serves them, starts the AUR stand-in, and writes the index,
    /// `aur_metadata` and the server's known_hosts line.
    pub fn new(entries: &[Value], aur_metadata: &Value) -> World {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        for e in entries {
            fixtures::write_archive_for(e, &archive, REA_ARCHIVE_PREFIX);
        }
        let http = TestServer::serve_dir(&archive);
        let aur = sshd::start();
        let world = World { dir, http, aur };
        world.set_index(entries);
        std::fs::write(
            world.path("aur.json"),
            serde_json::to_vec(aur_metadata).unwrap(),
        )
        .unwrap();
        std::fs::write(
            world.known_hosts(),
            format!("{}\n", world.aur.known_hosts_line()),
        )
        .unwrap();
        world
    }

    /// The temporary directory everything lives in (and `sync` keeps its state and cache in).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// The last run's `state/report.json`.
    pub fn report(&self) -> Value {
        read_report(&self.path("state"))
    }

    /// The file pinning the AUR stand-in's host key.
    pub fn known_hosts(&self) -> PathBuf {
        self.path("known_hosts")
    }

    pub fn set_index(&self, entries: &[Value]) {
        std::fs::write(
            self.path("index.json"),
            serde_json::to_vec(entries).unwrap(),
        )
        .unwrap();
    }

    /// Packs `entry`'s archive where the HTTP server serves it.
    pub fn add_archive(&self, entry: &Value) {
        fixtures::write_archive_for(entry, &self.path("archive"), REA_ARCHIVE_PREFIX);
    }
}
