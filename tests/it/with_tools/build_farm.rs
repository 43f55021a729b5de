//! The build farm for real: `raku-aur build` and `raku-aur sync` with `[build]` run the
//! stand-in builder of `tests/common/build_farm.rs` (a fresh pacman root per package, only
//! its declared dependencies installed from the system stubs and our own repository, makepkg
//! with checks as an unprivileged user) on the fixture ecosystem, and pacman installs from
//! the signed repository the bot keeps.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::{Value, json};

use crate::common;
use common::arch::text;
use common::build_farm::{BuildFarm, SigningKey, build_command, database, pacman_query, test_dir};
use common::fixtures::{REA_ARCHIVE_PREFIX, fixture_metas, index_entry, write_fixture_archive};
use common::http::TestServer;

/// The fixture ecosystem's index entries, with their archives written under `archive`.
fn fixture_entries(archive: &Path, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    fixture_metas()
        .into_iter()
        .map(|(source, meta)| (source, index_entry(&meta)))
        .filter(|(_, entry)| keep(entry))
        .map(|(source, entry)| {
            write_fixture_archive(&source, &entry, archive);
            entry
        })
        .collect()
}

/// `[build]` with the stand-in builder, the repository at `repo`, and `more`.
fn build_table(farm: &BuildFarm, repo: &Path, more: &str) -> String {
    format!(
        "[build]\ncommand = {:?}\nrepo-dir = {:?}\n{more}\n",
        farm.builder_argv(),
        repo.display().to_string()
    )
}

fn du_kib(dir: &Path) -> String {
    let out = Command::new("du").arg("-sk").arg(dir).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The whole fixture ecosystem from scratch, dependencies first, each in a clean root; a
/// second run builds nothing; pacman installs the top package from the signed repository
/// with `SigLevel = Required`, resolving its dependencies there; a package changed after
/// signing is refused; a new rakudo rebuilds everything into the repository.
#[test]
fn the_ecosystem_builds_in_clean_roots_and_installs_from_the_signed_repository() {
    let dir = test_dir();
    let path = |name: &str| dir.path().join(name);
    let entries = fixture_entries(&path("archive"), |_| true);
    assert_eq!(entries.len(), 6);
    fs::write(path("index.json"), serde_json::to_vec(&entries).unwrap()).unwrap();
    fs::write(
        path("aur.json"),
        common::world::aur_metadata(&[]).to_string(),
    )
    .unwrap();
    let http = TestServer::serve_dir(&path("archive"));
    let farm = BuildFarm::new(&path("farm"), &http);
    let key = SigningKey::generate(&path("key"));
    let repo = path("repo");
    let config = path("config.toml");
    fs::write(
        &config,
        build_table(
            &farm,
            &repo,
            &format!(
                "sign-key = {:?}\nrebuild-on-rakudo-change = true\nrakudo-version-command = {:?}",
                key.fingerprint,
                farm.rakudo_version_argv()
            ),
        ),
    )
    .unwrap();
    let build = || -> Output {
        build_command(dir.path(), &config, &http)
            .env("GNUPGHOME", &key.gnupghome)
            .output()
            .expect("raku-aur runs")
    };

    let started = Instant::now();
    let first = build();
    let from_scratch = started.elapsed();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let db = repo.join("raku-aur.db");
    let packages = database(&db);
    assert_eq!(packages.len(), 6, "{packages:?}");
    for pkgbase in [
        "raku-fixture-base",
        "raku-fixture-checked",
        "raku-fixture-middle",
        "raku-fixture-native",
        "raku-fixture-resources",
        "raku-fixture-top",
    ] {
        let logs = path("state/logs").join(pkgbase);
        let log: Vec<PathBuf> = fs::read_dir(&logs)
            .unwrap_or_else(|e| panic!("{}: {e}", logs.display()))
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(log.len(), 1, "{log:?}");
        let text = fs::read_to_string(&log[0]).unwrap();
        // makepkg's check() ran in every build.
        assert!(
            text.contains("Starting check()"),
            "{}: {text}",
            log[0].display()
        );
    }

    let started = Instant::now();
    let second = build();
    let nothing_new = started.elapsed();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(
        stdout
            .matches("unchanged: already in the repository")
            .count(),
        6,
        "{stdout}"
    );
    assert_eq!(database(&db), packages);
    eprintln!(
        "figures: from scratch {from_scratch:?}; nothing new {nothing_new:?}; repository {} KiB",
        du_kib(&repo)
    );

    let installed = farm.install_from_repo(
        &path("client"),
        &repo,
        "raku-aur",
        Some(&key),
        &["raku-fixture-top"],
    );
    assert!(installed.status.success(), "{}", text(&installed));
    // The top package and what it needs, at the versions the database names.
    for name in [
        "raku-fixture-top",
        "raku-fixture-middle",
        "raku-fixture-base",
    ] {
        let version = pacman_query(&path("client"), name)
            .unwrap_or_else(|| panic!("{name} is not installed"));
        assert!(
            packages.contains(&format!("{name}-{version}")),
            "{name} {version}"
        );
    }

    // One byte of a signed package changed: pacman refuses it.
    let base = fs::read_dir(&repo)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("raku-fixture-base-") && !n.ends_with(".sig")
        })
        .unwrap();
    let mut bytes = fs::read(&base).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&base, bytes).unwrap();
    let refused = farm.install_from_repo(
        &path("client-2"),
        &repo,
        "raku-aur",
        Some(&key),
        &["raku-fixture-base"],
    );
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("signature"), "{}", text(&refused));
    assert_eq!(pacman_query(&path("client-2"), "raku-fixture-base"), None);

    // rakudo 2026.05 reaches the build root: every package is built again, pkgrel 1.1.
    farm.set_rakudo_version("2026.05");
    let rebuilt = build();
    assert_eq!(rebuilt.status.code(), Some(0), "{}", text(&rebuilt));
    let after = database(&db);
    assert_eq!(after.len(), 6, "{after:?}");
    assert!(after.iter().all(|p| p.ends_with("-1.1")), "{after:?}");
}

/// sync with `[build]`: a package whose tests need a dependency the index forgot fails in
/// the clean root (on the host it might have found it installed), is not pushed, and is
/// reported with the end of its log, which is kept whole in STATE/logs; the package that
/// needs it waits; the others are built, then pushed. A rerun builds and pushes nothing.
#[test]
fn sync_pushes_only_what_built_in_a_clean_root() {
    let dir = test_dir();
    let path = |name: &str| dir.path().join(name);
    // Fixture::Checked's tests use Fixture::Base; this index forgets to say so.
    let mut entries = fixture_entries(&path("archive"), |e| {
        matches!(
            e["name"].as_str(),
            Some("Fixture::Base" | "Fixture::Checked")
        )
    });
    for entry in &mut entries {
        if entry["name"] == "Fixture::Checked" {
            entry["test-depends"] = json!([]);
        }
    }
    let needs_checked = index_entry(&json!({
        "name": "Needs::Checked",
        "version": "1.0",
        "auth": "zef:farm",
        "description": "depends on Fixture::Checked",
        "license": "Artistic-2.0",
        "depends": ["Fixture::Checked"],
        "provides": { "Needs::Checked": "lib/Needs/Checked.rakumod" },
    }));
    common::fixtures::write_archive_for(&needs_checked, &path("archive"), REA_ARCHIVE_PREFIX);
    entries.push(needs_checked);
    // The AUR stand-in and the state; its own archive server goes unused.
    let world = common::world::World::new(&entries, &common::world::aur_metadata(&[]));
    let http = TestServer::serve_dir(&path("archive"));
    let farm = BuildFarm::new(&path("farm"), &http);
    let config = path("config.toml");
    fs::write(&config, build_table(&farm, &path("repo"), "")).unwrap();
    let sync = || -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        command.arg("--config").arg(&config);
        common::sync_cmd::add_sync_args(
            &mut command,
            world.root(),
            &http,
            &world.aur,
            &world.aur.client_key(),
            &world.known_hosts(),
        );
        command.output().expect("raku-aur runs")
    };

    let synced = sync();
    assert_eq!(synced.status.code(), Some(1), "{}", text(&synced));
    let report = world.report();
    let status = |pkgbase: &str| common::world::report_status(&report, pkgbase);
    assert_eq!(status("raku-fixture-base").0, "pushed");
    let (checked, detail) = status("raku-fixture-checked");
    assert_eq!(checked, "failed", "{detail}");
    assert!(detail.contains("A failure occurred in check()"), "{detail}");
    assert!(detail.contains("Could not find Fixture::Base"), "{detail}");
    assert!(
        !detail.contains('\x1b'),
        "terminal escapes in the report: {detail}"
    );
    let logs: Vec<PathBuf> = fs::read_dir(world.path("state/logs/raku-fixture-checked"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let [log] = logs.as_slice() else {
        panic!("one log: {logs:?}")
    };
    assert!(
        detail.contains(&log.display().to_string()),
        "the report names the log: {detail}"
    );
    assert!(
        fs::read_to_string(log)
            .unwrap()
            .contains("Could not find Fixture::Base")
    );
    let (waits, detail) = status("raku-needs-checked");
    assert_eq!(waits, "waiting", "{detail}");
    assert!(detail.contains("raku-fixture-checked"), "{detail}");
    assert!(world.aur.master("raku-fixture-base").is_some());
    assert!(
        world.aur.master("raku-fixture-checked").is_none(),
        "what failed was pushed"
    );
    assert!(world.aur.master("raku-needs-checked").is_none());
    let in_repo = database(&path("repo/raku-aur.db"));
    assert_eq!(in_repo.len(), 1, "{in_repo:?}");
    assert!(in_repo[0].starts_with("raku-fixture-base-"), "{in_repo:?}");

    // Nothing new: nothing is built, nothing pushed; the failure stands.
    let logs_before = common::arch::snapshot(&world.path("state/logs"));
    let again = sync();
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(
        common::arch::snapshot(&world.path("state/logs")),
        logs_before
    );
    assert!(world.aur.master("raku-fixture-checked").is_none());
    assert_eq!(database(&path("repo/raku-aur.db")), in_repo);

    // A repository that lost everything (or a farm set up after the packages went up): the
    // published files are built into it again, and nothing is pushed for that.
    let pushed = world.aur.master("raku-fixture-base");
    assert!(pushed.is_some());
    fs::remove_dir_all(path("repo")).unwrap();
    fs::remove_file(world.path("state/build.json")).unwrap();
    let refilled = sync();
    assert_eq!(refilled.status.code(), Some(1), "{}", text(&refilled));
    assert_eq!(database(&path("repo/raku-aur.db")), in_repo);
    assert_eq!(
        world.aur.master("raku-fixture-base"),
        pushed,
        "something was pushed"
    );
}
