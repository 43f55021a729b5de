//! The build farm's world (`tests/common/build_farm.rs`) works without the bot: the builder
//! builds rendered packages in a clean root with only what they declare, a repository signed
//! with a generated key installs, a tampered package is refused, and builds cannot write
//! outside their scratch directories.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common;
use crate::render::{ok, render_command, srcinfo_value};
use common::arch::{snapshot, text};
use common::build_farm::{self, BuildFarm, RAKUDO_VERSION, SigningKey, package_files, test_dir};
use common::fixtures::{fixture_metas, index_entry, write_fixture_archive};
use common::http::TestServer;
use serde_json::{Value, json};

fn rakudo_version(farm: &BuildFarm) -> String {
    let argv = farm.rakudo_version_argv();
    let output = common::arch::run(std::process::Command::new(&argv[0]).args(&argv[1..]));
    String::from_utf8(output.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

/// Everything in the farm but its builds' scratch directories.
fn farm_snapshot(farm: &BuildFarm) -> BTreeMap<PathBuf, (u64, i64, u32)> {
    let builds = farm.path("builds");
    let mut all = snapshot(&farm.path(""));
    all.retain(|path, _| !path.starts_with(&builds));
    all
}

fn builds_left(farm: &BuildFarm) -> Vec<PathBuf> {
    fs::read_dir(farm.path("builds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// `<pkgver>-<pkgrel>` of the package rendered in `dir`.
fn rendered_version(dir: &Path) -> String {
    let srcinfo = fs::read_to_string(dir.join(".SRCINFO")).unwrap();
    let value = |key: &str| srcinfo_value(&srcinfo, key).remove(0);
    format!("{}-{}", value("pkgver"), value("pkgrel"))
}

/// A fresh, empty directory at `path`.
fn empty_dir(path: PathBuf) -> PathBuf {
    fs::create_dir(&path).unwrap();
    path
}

#[test]
fn farm_builds_sign_install_and_refuse_what_they_should() {
    let dir = test_dir();
    let path = |name: &str| dir.path().join(name);

    // Fixture::Checked's tests use Fixture::Base; here it also needs it at run time, so that
    // installing it resolves a dependency from the signed repository.
    let entries: Vec<(PathBuf, Value)> = fixture_metas()
        .into_iter()
        .filter(|(_, m)| {
            matches!(
                m["name"].as_str(),
                Some("Fixture::Base" | "Fixture::Checked")
            )
        })
        .map(|(source, mut meta)| {
            if meta["name"] == "Fixture::Checked" {
                meta["depends"] = json!(["Fixture::Base"]);
            }
            (source, index_entry(&meta))
        })
        .collect();
    assert_eq!(entries.len(), 2);
    for (source, entry) in &entries {
        write_fixture_archive(source, entry, &path("archive"));
    }
    let index: Vec<&Value> = entries.iter().map(|(_, e)| e).collect();
    fs::write(path("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let http = TestServer::serve_dir(&path("archive"));
    let out = path("out");
    ok(
        &render_command(&[path("index.json")], &out, &path("cache"), &http)
            .output()
            .expect("raku-aur runs"),
    );
    let base = out.join("raku-fixture-base");
    let checked = out.join("raku-fixture-checked");
    let srcinfo = fs::read_to_string(checked.join(".SRCINFO")).unwrap();
    assert!(
        srcinfo.contains("\tdepends = raku-fixture-base"),
        "{srcinfo}"
    );

    let farm = BuildFarm::new(&path("farm"), &http);
    assert_eq!(rakudo_version(&farm), format!("{RAKUDO_VERSION}-1"));
    let key = SigningKey::generate(&path("key"));
    let repo = path("repo");

    // The first build: the bot's repository does not exist yet.
    let farm_before = farm_snapshot(&farm);
    let base_before = snapshot(&base);
    let pkgdest = empty_dir(path("pkgdest-base"));
    let built = farm.build(&base, &pkgdest, &repo, "raku-aur");
    let log = text(&built);
    assert!(built.status.success(), "{log}");
    assert!(log.contains("Starting check()"), "{log}");
    assert!(log.contains("All tests successful"), "{log}");
    assert!(
        farm_before == farm_snapshot(&farm),
        "the build wrote into the farm"
    );
    assert!(
        base_before == snapshot(&base),
        "the build wrote into the package"
    );
    assert!(builds_left(&farm).is_empty(), "{:?}", builds_left(&farm));
    let files = package_files(&pkgdest);
    assert_eq!(files.len(), 1, "{files:?}");
    key.add_signed(&repo, "raku-aur", &files);
    assert!(repo.join("raku-aur.db.sig").exists());

    // The dependent gets its dependency from the signed repository.
    let pkgdest = empty_dir(path("pkgdest-checked"));
    let built = farm.build(&checked, &pkgdest, &repo, "raku-aur");
    let log = text(&built);
    assert!(built.status.success(), "{log}");
    assert!(log.contains("installing raku-fixture-base"), "{log}");
    assert!(log.contains("All tests successful"), "{log}");
    key.add_signed(&repo, "raku-aur", &package_files(&pkgdest));

    let client = path("client");
    let installed = farm.install_from_repo(
        &client,
        &repo,
        "raku-aur",
        Some(&key),
        &["raku-fixture-checked"],
    );
    assert!(installed.status.success(), "{}", text(&installed));
    for (name, version) in [
        ("raku-fixture-checked", rendered_version(&checked)),
        ("raku-fixture-base", rendered_version(&base)),
        ("rakudo", format!("{RAKUDO_VERSION}-1")),
    ] {
        assert_eq!(build_farm::pacman_query(&client, name), Some(version));
    }

    // One byte changed after signing: pacman refuses the package.
    let base_file = package_files(&repo)
        .into_iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("raku-fixture-base-")
        })
        .unwrap();
    let mut bytes = fs::read(&base_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&base_file, bytes).unwrap();
    let tampered = path("client-tampered");
    let refused = farm.install_from_repo(
        &tampered,
        &repo,
        "raku-aur",
        Some(&key),
        &["raku-fixture-base"],
    );
    let message = text(&refused);
    assert!(!refused.status.success(), "{message}");
    assert!(
        message.contains("signature") && message.contains("invalid"),
        "{message}"
    );
    assert_eq!(
        build_farm::pacman_query(&tampered, "raku-fixture-base"),
        None
    );

    // Whatever a package does not get from a repository, it does not have.
    let pkgdest = empty_dir(path("pkgdest-orphan"));
    let failed = farm.build(&checked, &pkgdest, &path("no-repo"), "raku-aur");
    let log = text(&failed);
    assert!(!failed.status.success(), "{log}");
    assert!(
        log.contains("cannot install what .SRCINFO declares")
            && log.contains("target not found: raku-fixture-base"),
        "{log}"
    );
    assert!(package_files(&pkgdest).is_empty());
    assert!(builds_left(&farm).is_empty(), "{:?}", builds_left(&farm));

    // An expired key signs nothing.
    let expired = SigningKey::generate_expired(&path("expired-key"));
    let signed = expired.detach_sign(&files[0]);
    assert!(!signed.status.success(), "{}", text(&signed));
    assert!(
        text(&signed).contains("Unusable secret key"),
        "{}",
        text(&signed)
    );
}

/// A package whose build() writes to `target`, a shell word expanded at build time.
fn escaping_package(dir: &Path, target: &str) -> PathBuf {
    fs::create_dir(dir).unwrap();
    fs::write(
        dir.join("PKGBUILD"),
        format!(
            "pkgname=escape\npkgver=1\npkgrel=1\narch=('any')\ndepends=('rakudo')\n\
             build() {{\n  touch \"{target}\"\n}}\npackage() {{\n  :\n}}\n"
        ),
    )
    .unwrap();
    fs::write(
        dir.join(".SRCINFO"),
        "pkgbase = escape\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = any\n\tdepends = rakudo\n\n\
         pkgname = escape\n",
    )
    .unwrap();
    dir.to_path_buf()
}

#[test]
fn farm_builds_cannot_write_outside_scratch_and_follow_rakudo_upgrades() {
    let dir = test_dir();
    let path = |name: &str| dir.path().join(name);
    let http = TestServer::serve_dir(&empty_dir(path("archive")));
    let farm = BuildFarm::new(&path("farm"), &http);

    for (name, target) in [
        ("home", "$HOME/escaped"),
        ("root", "$RAKUDO_HOME/vendor/escaped"),
    ] {
        let pkg = escaping_package(&path(name), target);
        let pkgdest = empty_dir(path(&format!("{name}-pkgdest")));
        let failed = farm.build(&pkg, &pkgdest, &path("no-repo"), "raku-aur");
        let log = text(&failed);
        // makepkg's status for a failed build().
        assert_eq!(failed.status.code(), Some(4), "{name}: {log}");
        assert!(log.contains("Permission denied"), "{name}: {log}");
        assert!(package_files(&pkgdest).is_empty());
    }
    assert!(builds_left(&farm).is_empty(), "{:?}", builds_left(&farm));

    farm.set_rakudo_version("2026.05");
    assert_eq!(rakudo_version(&farm), "2026.05-1");
}
