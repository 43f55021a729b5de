//! A status site made by `raku-aur site` from a small ecosystem and a state directory written
//! by hand, one distribution per state; the site suites (plain and in a browser) share it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::fixtures::{self, REA_ARCHIVE_PREFIX};
use super::http::TestServer;

/// The description a hostile author wrote: if any of it ran, `window.pwned` and the title
/// would say so; if it rendered, an image would be there.
pub const HOSTILE_DESCRIPTION: &str = "<script>document.title='pwned';window.pwned=1</script>\
     <img src=x onerror=\"window.pwned=2\"> Hostile & proud";

/// `(distribution, pkgbase or None, state)` of every row, in the site's order.
pub const ROWS: &[(&str, Option<&str>, &str)] = &[
    ("Hostile::Desc", Some("raku-hostile-desc"), "pending"),
    ("No::Source:ver<1.0>:auth<zef:site>", None, "held"),
    ("Site::Base", Some("raku-site-base"), "published"),
    ("Site::Broken", Some("raku-site-broken"), "build-failed"),
    ("Site::Mid", Some("raku-site-mid"), "review"),
    ("Site::Top", Some("raku-site-top"), "waiting"),
];

fn meta(name: &str, description: &str, depends: &[&str]) -> Value {
    json!({
        "name": name, "version": "1.0", "auth": "zef:site", "description": description,
        "license": "Artistic-2.0", "depends": depends, "provides": {name: "lib/X.rakumod"},
    })
}

/// The index: one entry per row of [`ROWS`].
pub fn entries() -> Vec<Value> {
    let mut entries: Vec<Value> = [
        meta("Hostile::Desc", HOSTILE_DESCRIPTION, &[]),
        meta("Site::Base", "the base", &[]),
        meta("Site::Broken", "does not build", &[]),
        meta("Site::Mid", "waits for review", &["Site::Base"]),
        meta("Site::Top", "needs the one in review", &["Site::Mid"]),
    ]
    .iter()
    .map(fixtures::index_entry)
    .collect();
    let mut held = fixtures::index_entry(&meta("No::Source", "no tarball", &[]));
    held.as_object_mut().unwrap().remove("source-url");
    entries.push(held);
    entries
}

/// The state directory: Site::Base published with a push, Site::Mid in the review queue,
/// Site::Broken's build failed (with a log that is all markup).
pub fn write_state(state: &Path) {
    std::fs::create_dir_all(state.join("review")).unwrap();
    std::fs::create_dir_all(state.join("logs/raku-site-broken")).unwrap();
    let published = json!({"packages": {
        "raku-site-base": {"input_digest": "old", "commit": "c0ffee", "pkgver": "1.0",
            "pushes": [{"pkgver": "1.0", "commit": "c0ffee", "message": "Update to 1.0",
                        "at": 1_714_996_800u64}]},
        "raku-site-broken": {"input_digest": "old", "commit": "abc", "pkgver": "0.9"}
    }});
    std::fs::write(state.join("published.json"), published.to_string()).unwrap();
    let review = json!({
        "pkgbase": "raku-site-mid", "pkgver": "1.0", "message": "Update to 1.0",
        "reasons": [{"kind": "first-publication", "text": "the AUR has no raku-site-mid yet"}],
        "diff": "+pkgname=raku-site-mid\n+<b>not bold</b>", "input_digest": "d",
        "files_digest": "f", "decision": "pending"
    });
    std::fs::write(state.join("review/raku-site-mid.json"), review.to_string()).unwrap();
    let builds = json!({"packages": {"raku-site-broken": {
        "version": "1.0-1", "outcome": "failed", "log": "logs/raku-site-broken/1.0-1.log"}}});
    std::fs::write(state.join("build.json"), builds.to_string()).unwrap();
    std::fs::write(
        state.join("logs/raku-site-broken/1.0-1.log"),
        "==> ERROR: <script>window.pwned=3</script> check() failed\n",
    )
    .unwrap();
}

/// An index, its archives served over loopback, the AUR metadata and the state.
pub struct Ecosystem {
    pub dir: tempfile::TempDir,
    pub http: TestServer,
}

impl Ecosystem {
    pub fn new() -> Ecosystem {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        std::fs::create_dir_all(&archive).unwrap();
        for e in entries().iter().filter(|e| e.get("source-url").is_some()) {
            fixtures::write_archive_for(e, &archive, REA_ARCHIVE_PREFIX);
        }
        let http = TestServer::serve_dir(&archive);
        std::fs::write(
            dir.path().join("aur.json"),
            super::world::aur_metadata(&[]).to_string(),
        )
        .unwrap();
        write_state(&dir.path().join("state"));
        Ecosystem { dir, http }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `raku-aur site` over `entries` (in that order) into `out`.
    pub fn site(&self, entries: &[Value], out: &Path) -> std::process::Output {
        let index = self.path("index.json");
        std::fs::write(&index, serde_json::to_vec(entries).unwrap()).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_raku-aur"))
            .env("XDG_CONFIG_HOME", self.path("no-config"))
            .arg("site")
            .arg("--index")
            .arg(&index)
            .arg("--state")
            .arg(self.path("state"))
            .arg("--cache")
            .arg(self.path("cache"))
            .arg("--aur-metadata")
            .arg(self.path("aur.json"))
            .args(["--aur-user", "raku-aur-bot"])
            .arg("--mirror")
            .arg(format!("{REA_ARCHIVE_PREFIX}={}", self.http.base_url()))
            .arg("--out")
            .arg(out)
            .output()
            .expect("raku-aur runs");
        assert!(
            output.status.success(),
            "raku-aur site failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}
