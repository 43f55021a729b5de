//! `raku-aur legacy` on the real test data and the real AUR snapshot, with maintainers and
//! out-of-date flags written into a copy of it: each stand-in gets the next step its situation
//! calls for, the ones that hold back most come first, and strangers' text stays inert.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const DAY: i64 = 24 * 60 * 60;

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

/// The snapshot with `change` applied to the package `name`.
fn edit(packages: &mut [Value], name: &str, change: Value) {
    let p = packages
        .iter_mut()
        .find(|p| p["Name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the snapshot"));
    for (key, value) in change.as_object().unwrap() {
        p[key] = value.clone();
    }
}

fn legacy(dir: &Path, metadata: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_raku-aur"))
        .env("XDG_CONFIG_HOME", dir.join("no-config"))
        .arg("legacy")
        .args([
            "--index",
            &data("rea-sample.json"),
            "--index",
            &data("rea-pages.json"),
        ])
        .arg("--aur-metadata")
        .arg(metadata)
        .arg("--cache")
        .arg(dir.join("cache"))
        .args(["--aur-user", "raku-aur-bot"])
        .args(extra)
        .output()
        .expect("raku-aur runs")
}

#[test]
fn each_stand_in_gets_the_next_step_its_situation_calls_for() {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut packages: Vec<Value> =
        serde_json::from_slice(&std::fs::read(data("aur-raku-packages-meta.json")).unwrap())
            .unwrap();
    // perl6-json-fast stays an orphan (the snapshot has no maintainers).
    edit(
        &mut packages,
        "perl6-file-temp",
        json!({"Maintainer": "human",
        "OutOfDate": now - 200 * DAY, "NumVotes": 7, "Popularity": 0.25}),
    );
    edit(
        &mut packages,
        "perl6-test-meta",
        json!({"Maintainer": "busy\u{1b}[31m"}),
    );
    edit(
        &mut packages,
        "perl6-digest",
        json!({"Maintainer": "human",
        "CoMaintainers": ["raku-aur-bot"]}),
    );
    edit(
        &mut packages,
        "perl6-json-class",
        json!({"Maintainer": "human",
        "OutOfDate": now - 10 * DAY}),
    );
    let metadata = dir.path().join("aur.json");
    std::fs::write(&metadata, serde_json::to_vec(&packages).unwrap()).unwrap();

    let out = legacy(dir.path(), &metadata, &["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let step = |package: &str| -> (String, String) {
        let e = entries
            .iter()
            .find(|e| e["package"] == package)
            .unwrap_or_else(|| panic!("{package} is not listed"));
        (
            e["next_step"].as_str().unwrap().to_string(),
            e["request"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(
        step("perl6-json-fast"),
        (
            "adopt".into(),
            "ssh aur@aur.archlinux.org adopt perl6-json-fast".into()
        )
    );
    let (s, request) = step("perl6-file-temp");
    assert_eq!(s, "file-orphan-request");
    assert!(
        request.contains("flagged out of date for 200 days"),
        "{request}"
    );
    let (s, request) = step("perl6-test-meta");
    assert_eq!(s, "flag-out-of-date");
    assert!(
        request.starts_with("ssh aur@aur.archlinux.org flag perl6-test-meta 'Test::META 0.0.20"),
        "{request}"
    );
    // Co-maintained by our account: published in place, so not a stand-in any more.
    assert!(entries.iter().all(|e| e["package"] != "perl6-digest"));
    assert_eq!(step("perl6-json-class").0, "ask-maintainer");
    // Most held back first.
    let held: Vec<u64> = entries
        .iter()
        .map(|e| e["held"].as_u64().unwrap())
        .collect();
    assert!(held.windows(2).all(|w| w[0] >= w[1]), "{held:?}");
    assert_eq!(entries[0]["package"], "zef", "{}", entries[0]);

    let text = legacy(dir.path(), &metadata, &[]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("next: file an orphan request"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "a maintainer's escape sequence reached the terminal"
    );
}
