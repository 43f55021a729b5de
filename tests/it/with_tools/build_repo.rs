//! `raku-aur build` and its repository, with a builder that makes a minimal package (a
//! `.PKGINFO` in a tarball) instead of running makepkg: what the farm does around a build
//! (order, records, logs, timeouts, signatures, pruning, rebuilds, a full disk) without the
//! minutes real builds take. `build_farm.rs` builds for real.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common;
use common::build_farm::{SigningKey, build_command, database};
use common::fixtures::{REA_ARCHIVE_PREFIX, index_entry, write_archive_for};
use common::http::TestServer;

/// Makes the package `.SRCINFO` describes, logging its name to `$BUILT_LOG`; fails for the
/// names in `$FAKE_FAIL` and hangs for those in `$FAKE_HANG`.
const FAKE_BUILDER: &str = r#"#!/bin/bash
set -euo pipefail
field() { sed -n "s/^\t\{0,1\}$1 = //p" .SRCINFO | head -n 1; }
name=$(field pkgname); epoch=$(field epoch)
[ -n "$name" ] || { echo "no pkgname in .SRCINFO"; exit 9; }
full="${epoch:+$epoch:}$(field pkgver)-$(field pkgrel)"
echo "building $name $full for $RAKU_AUR_REPO_NAME from $RAKU_AUR_REPO"
echo "$name $full" >> "$BUILT_LOG"
echo $$ > "$BUILT_LOG.pid"
case " ${FAKE_FAIL:-} " in *" $name "*) echo "==> ERROR: A failure occurred in check()."; exit 4;; esac
case " ${FAKE_HANG:-} " in *" $name "*) sleep 600;; esac
work=$(mktemp -d)
printf 'pkgname = %s\npkgbase = %s\npkgver = %s\narch = any\nsize = 0\n' "$name" "$name" "$full" > "$work/.PKGINFO"
bsdtar -czf "$PKGDEST/$name-$full-any.pkg.tar.gz" -C "$work" .PKGINFO
rm -r "$work"
"#;

fn dist(name: &str, version: &str, depends: &[&str]) -> Value {
    index_entry(&json!({
        "name": name,
        "version": version,
        "auth": "zef:farm",
        "description": format!("{name}, for the build farm's tests"),
        "license": "Artistic-2.0",
        "depends": depends,
        "provides": { name: format!("lib/{}.rakumod", name.replace("::", "/")) },
    }))
}

/// An index served from 127.0.0.1, a fake builder, and a state directory.
struct Farm {
    dir: tempfile::TempDir,
    http: TestServer,
}

impl Farm {
    fn new(entries: &[Value]) -> Farm {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("archive")).unwrap();
        let http = TestServer::serve_dir(&dir.path().join("archive"));
        let farm = Farm { dir, http };
        farm.set_index(entries);
        fs::write(
            farm.path("aur.json"),
            common::world::aur_metadata(&[]).to_string(),
        )
        .unwrap();
        common::arch::write_script(&farm.path("fake-builder"), FAKE_BUILDER);
        farm
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn set_index(&self, entries: &[Value]) {
        for e in entries {
            write_archive_for(e, &self.path("archive"), REA_ARCHIVE_PREFIX);
        }
        fs::write(
            self.path("index.json"),
            serde_json::to_vec(entries).unwrap(),
        )
        .unwrap();
    }

    /// A config file: `[build]` with the fake builder, the repository in `repo/`, and `more`.
    fn config(&self, more: &str) -> PathBuf {
        let path = self.path("config.toml");
        fs::write(
            &path,
            format!(
                "[build]\ncommand = [{:?}]\nrepo-dir = {:?}\n{more}\n",
                self.path("fake-builder").display().to_string(),
                self.path("repo").display().to_string()
            ),
        )
        .unwrap();
        path
    }

    /// `raku-aur build` with the config and the builder's environment `env`, not run.
    fn command(&self, config: &Path, env: &[(&str, &str)]) -> Command {
        let mut command = build_command(self.dir.path(), config, &self.http);
        command
            .env("BUILT_LOG", self.path("built.log"))
            .env_remove("FAKE_FAIL")
            .env_remove("FAKE_HANG")
            .envs(env.iter().copied());
        command
    }

    /// `raku-aur build` with the config and the builder's environment `env`.
    fn build(&self, config: &Path, env: &[(&str, &str)]) -> Output {
        self.command(config, env).output().expect("raku-aur runs")
    }

    /// What the builder was asked to build, in order (`name version` lines).
    fn built(&self) -> Vec<String> {
        fs::read_to_string(self.path("built.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn record(&self) -> Value {
        serde_json::from_slice(&fs::read(self.path("state/build.json")).unwrap()).unwrap()
    }

    /// `name-version` entries of the repository's database.
    fn database(&self) -> Vec<String> {
        database(&self.path("repo/raku-aur.db"))
    }

    /// Package files in the repository directory.
    fn package_files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path("repo"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".pkg.tar") && !n.ends_with(".sig"))
            .collect();
        names.sort();
        names
    }
}

fn text(output: &Output) -> String {
    common::arch::text(output)
}

fn outcomes(record: &Value) -> BTreeMap<String, String> {
    record["packages"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["outcome"].as_str().unwrap().to_string()))
        .collect()
}

/// A chain a → b → c and a loner: dependencies are built first, a failure leaves its
/// dependents waiting with their reason, its log is kept, and a rerun with nothing new builds
/// nothing at all.
#[test]
fn dependencies_build_first_a_failure_holds_its_dependents_and_nothing_is_built_twice() {
    let farm = Farm::new(&[
        dist("Chain::C", "1.0", &["Chain::B"]),
        dist("Chain::B", "1.0", &["Chain::A"]),
        dist("Chain::A", "1.0", &[]),
        dist("Loner", "0.5", &[]),
    ]);
    let config = farm.config("");
    let first = farm.build(&config, &[("FAKE_FAIL", "raku-chain-b")]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    let built = farm.built();
    let position = |name: &str| built.iter().position(|l| l.starts_with(name));
    assert!(
        position("raku-chain-a ") < position("raku-chain-b "),
        "{built:?}"
    );
    assert_eq!(position("raku-chain-c "), None, "{built:?}");
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        out.contains("raku-chain-c: waiting: needs raku-chain-b, which failed"),
        "{out}"
    );
    let record = farm.record();
    assert_eq!(
        outcomes(&record),
        BTreeMap::from([
            ("raku-chain-a".into(), "built".into()),
            ("raku-chain-b".into(), "failed".into()),
            ("raku-loner".into(), "built".into()),
        ])
    );
    let log = farm.path("state/logs/raku-chain-b/1.0-1.log");
    assert_eq!(
        record["packages"]["raku-chain-b"]["log"],
        "logs/raku-chain-b/1.0-1.log"
    );
    let log_text = fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("A failure occurred in check()"),
        "{log_text}"
    );
    assert!(
        log_text.contains(&format!(
            "for raku-aur from file://{}",
            farm.path("repo").display()
        )),
        "{log_text}"
    );
    assert!(
        out.contains("A failure occurred in check()"),
        "the log's tail is reported: {out}"
    );
    assert_eq!(farm.database(), ["raku-chain-a-1.0-1", "raku-loner-0.5-1"]);

    // Nothing new: nothing is built, the failure is reported again, the database unchanged.
    let db = fs::read(farm.path("repo/raku-aur.db.tar.gz")).unwrap();
    let again = farm.build(&config, &[]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(farm.built(), built, "a rerun built something");
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("did not build, and neither its files"),
        "{}",
        text(&again)
    );
    assert_eq!(fs::read(farm.path("repo/raku-aur.db.tar.gz")).unwrap(), db);

    // With retry-failed-after = 0, a failure of unchanged files is tried again at once (by
    // default a day later: the network may have been what failed).
    let config = farm.config("retry-failed-after = 0");
    let retried = farm.build(&config, &[("FAKE_FAIL", "raku-chain-b")]);
    assert_eq!(retried.status.code(), Some(1), "{}", text(&retried));
    assert_eq!(farm.built()[built.len()..], ["raku-chain-b 1.0-1"]);
    let built = farm.built();

    // A new release of B is built, and C with it.
    farm.set_index(&[
        dist("Chain::C", "1.0", &["Chain::B"]),
        dist("Chain::B", "1.1", &["Chain::A"]),
        dist("Chain::A", "1.0", &[]),
        dist("Loner", "0.5", &[]),
    ]);
    let fixed = farm.build(&config, &[]);
    assert_eq!(fixed.status.code(), Some(0), "{}", text(&fixed));
    assert_eq!(
        farm.built()[built.len()..],
        ["raku-chain-b 1.1-1", "raku-chain-c 1.0-1"]
    );
    assert_eq!(
        farm.database(),
        [
            "raku-chain-a-1.0-1",
            "raku-chain-b-1.1-1",
            "raku-chain-c-1.0-1",
            "raku-loner-0.5-1"
        ]
    );
}

/// `keep = 2`: the directory keeps the two newest builds of a package; the database names
/// the newest. A distribution that leaves the index leaves the database, its files and the
/// record.
#[test]
fn old_versions_are_pruned_and_gone_distributions_leave_the_repository() {
    let farm = Farm::new(&[dist("Pruned", "1.0", &[]), dist("Stays", "1.0", &[])]);
    let config = farm.config("keep = 2");
    for version in ["1.0", "1.1", "1.2"] {
        farm.set_index(&[dist("Pruned", version, &[]), dist("Stays", "1.0", &[])]);
        let out = farm.build(&config, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    assert_eq!(
        farm.package_files(),
        [
            "raku-pruned-1.1-1-any.pkg.tar.gz",
            "raku-pruned-1.2-1-any.pkg.tar.gz",
            "raku-stays-1.0-1-any.pkg.tar.gz"
        ]
    );
    assert_eq!(farm.database(), ["raku-pruned-1.2-1", "raku-stays-1.0-1"]);

    // A run over part of the index (`--only`) leaves the rest of the repository alone.
    let partial = farm
        .command(&config, &[])
        .args(["--only", "Stays"])
        .output()
        .unwrap();
    assert_eq!(partial.status.code(), Some(0), "{}", text(&partial));
    assert_eq!(farm.database(), ["raku-pruned-1.2-1", "raku-stays-1.0-1"]);

    farm.set_index(&[dist("Stays", "1.0", &[])]);
    let out = farm.build(&config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("raku-pruned: removed from the repository (its distribution left the index)"),
        "{}",
        text(&out)
    );
    assert_eq!(farm.database(), ["raku-stays-1.0-1"]);
    assert_eq!(farm.package_files(), ["raku-stays-1.0-1-any.pkg.tar.gz"]);
    assert!(farm.record()["packages"].get("raku-pruned").is_none());
}

/// A build that hangs (as one waiting for a network that is not there) is stopped after
/// `timeout`, recorded as failed with its log, and the rest go on.
#[test]
fn a_hanging_build_is_stopped_at_the_timeout_and_the_others_go_on() {
    let farm = Farm::new(&[dist("Hangs", "1.0", &[]), dist("Fine", "1.0", &[])]);
    let config = farm.config("timeout = 2");
    let started = Instant::now();
    let out = farm.build(&config, &[("FAKE_HANG", "raku-hangs")]);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("raku-hangs: failed: the build was stopped after 2 seconds"),
        "{stdout}"
    );
    assert_eq!(
        outcomes(&farm.record()),
        BTreeMap::from([
            ("raku-fine".into(), "built".into()),
            ("raku-hangs".into(), "failed".into()),
        ])
    );
    let log = fs::read_to_string(farm.path("state/logs/raku-hangs/1.0-1.log")).unwrap();
    assert!(log.starts_with("building raku-hangs 1.0-1"), "{log}");
}

/// A run killed (SIGKILL) in the middle of a build leaves nothing half-added: the next run
/// takes the lock, clears the leftovers, builds the package again and adds it.
#[test]
fn a_run_killed_mid_build_is_finished_by_the_next_one() {
    let farm = Farm::new(&[dist("Early", "1.0", &[]), dist("Killed", "1.0", &[])]);
    let config = farm.config("");
    let first = farm.build(&config, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    farm.set_index(&[dist("Early", "1.1", &[]), dist("Killed", "1.0", &[])]);
    let db = fs::read(farm.path("repo/raku-aur.db.tar.gz")).unwrap();
    let mut child = farm
        .command(&config, &[("FAKE_HANG", "raku-early")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !farm.built().iter().any(|l| l == "raku-early 1.1-1") {
        assert!(Instant::now() < deadline, "the build never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The builder is its own process group's leader; it outlived the bot.
    let builder = fs::read_to_string(farm.path("built.log.pid")).unwrap();
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", builder.trim())])
        .status();
    assert_eq!(fs::read(farm.path("repo/raku-aur.db.tar.gz")).unwrap(), db);

    let next = farm.build(&config, &[]);
    assert_eq!(next.status.code(), Some(0), "{}", text(&next));
    assert_eq!(farm.database(), ["raku-early-1.1-1", "raku-killed-1.0-1"]);
    assert!(!farm.path("repo/.staging").exists());
    let leftovers: Vec<_> = fs::read_dir(farm.path("state/build"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(outcomes(&farm.record())["raku-early"], "built");
}

/// A signing key that is missing, or expired, stops the run with exit 2, naming the key,
/// before any build starts; a usable one signs every package and the database.
#[test]
fn the_signing_key_is_checked_before_anything_is_built() {
    let farm = Farm::new(&[dist("Signed", "1.0", &[])]);
    let keys = farm.path("keys");
    fs::create_dir(&keys).unwrap();
    let expired = SigningKey::generate_expired(&keys.join("expired"));
    let good = SigningKey::generate(&keys.join("good"));
    let absent = "0123456789ABCDEF0123456789ABCDEF01234567";
    for (fingerprint, gnupghome) in [
        (absent, &good.gnupghome),
        (expired.fingerprint.as_str(), &expired.gnupghome),
    ] {
        let config = farm.config(&format!("sign-key = {fingerprint:?}"));
        let home = gnupghome.display().to_string();
        let out = farm.build(&config, &[("GNUPGHOME", &home)]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "the signing key {fingerprint} (build.sign-key) cannot sign"
            )),
            "{stderr}"
        );
        assert!(farm.built().is_empty(), "a build ran with an unusable key");
    }

    let config = farm.config(&format!("sign-key = {:?}", good.fingerprint));
    let home = good.gnupghome.display().to_string();
    let out = farm.build(&config, &[("GNUPGHOME", &home)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for file in [
        "raku-signed-1.0-1-any.pkg.tar.gz",
        "raku-aur.db.tar.gz",
        "raku-aur.files.tar.gz",
    ] {
        let file = farm.path("repo").join(file);
        let mut sig = file.clone().into_os_string();
        sig.push(".sig");
        let verified = good
            .gpg()
            .arg("--verify")
            .arg(&sig)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            verified.status.success(),
            "{}: {}",
            file.display(),
            text(&verified)
        );
    }
    assert_eq!(
        fs::read_link(farm.path("repo/raku-aur.db.sig")).unwrap(),
        Path::new("raku-aur.db.tar.gz.sig")
    );
}

/// After the rakudo builds get changes, every package is built again with the pkgrel's minor
/// part raised, once; an unreadable version stops the run before anything is built.
#[test]
fn a_new_rakudo_rebuilds_everything_once_with_a_raised_minor_pkgrel() {
    let farm = Farm::new(&[dist("Rebuilt", "1.0", &[]), dist("Also", "2.0", &[])]);
    let version_file = farm.path("rakudo-version");
    let config = farm.config(&format!(
        "rebuild-on-rakudo-change = true\nrakudo-version-command = [\"cat\", {:?}]",
        version_file.display().to_string()
    ));
    let run = |expect: i32| {
        let out = farm.build(&config, &[]);
        assert_eq!(out.status.code(), Some(expect), "{}", text(&out));
        out
    };
    fs::write(&version_file, "2026.04-1\n").unwrap();
    run(0);
    run(0);
    assert_eq!(farm.built(), ["raku-also 2.0-1", "raku-rebuilt 1.0-1"]);

    fs::write(&version_file, "2026.06-1\n").unwrap();
    run(0);
    run(0);
    assert_eq!(
        farm.built()[2..],
        ["raku-also 2.0-1.1", "raku-rebuilt 1.0-1.1"]
    );
    assert_eq!(
        farm.database(),
        ["raku-also-2.0-1.1", "raku-rebuilt-1.0-1.1"]
    );
    assert_eq!(
        farm.record()["packages"]["raku-also"]["rakudo"],
        "2026.06-1"
    );

    fs::write(&version_file, "not a version\n").unwrap();
    let out = run(2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot tell which rakudo builds get"),
        "{}",
        text(&out)
    );
    assert_eq!(farm.built().len(), 4);
}

/// The repository on a full file system: the build succeeds, adding it does not; the old
/// database stays as it was, nothing is recorded as built, and once there is room again
/// the next run adds it. (A private mount namespace holds a small tmpfs, as root or not.)
#[test]
fn a_full_disk_leaves_the_old_database_serving_and_the_next_run_converges() {
    let farm = Farm::new(&[dist("First", "1.0", &[])]);
    let config = farm.config("");
    let repo = farm.path("repo");
    fs::create_dir(&repo).unwrap();
    // The command as one line of shell: every argument single-quoted.
    let command = farm.command(&config, &[]);
    let build = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| format!("'{}'", a.to_str().unwrap().replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let second =
        serde_json::to_vec(&[dist("First", "1.0", &[]), dist("Second", "1.0", &[])]).unwrap();
    write_archive_for(
        &dist("Second", "1.0", &[]),
        &farm.path("archive"),
        REA_ARCHIVE_PREFIX,
    );
    fs::write(farm.path("index-2.json"), second).unwrap();
    // First run on a fresh tmpfs; fill it; a second index adds a package that cannot be
    // added; make room; the third run adds it.
    let script = format!(
        r#"set -u
mount -t tmpfs -o size=256k tmpfs {repo}
{build} >{dir}/run1.out 2>&1; echo "run1 $?"
sha256sum {repo}/raku-aur.db.tar.gz > {dir}/db.before
head -c 10M /dev/zero > {repo}/filler 2>/dev/null
cp {dir}/index-2.json {dir}/index.json
{build} >{dir}/run2.out 2>&1; echo "run2 $?"
sha256sum {repo}/raku-aur.db.tar.gz > {dir}/db.after
rm {repo}/filler
{build} >{dir}/run3.out 2>&1; echo "run3 $?"
bsdtar -tf {repo}/raku-aur.db | grep /$ | sort
"#,
        repo = repo.display(),
        dir = farm.dir.path().display(),
    );
    let out = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "bash",
            "-c",
            &script,
        ])
        .env("XDG_CONFIG_HOME", farm.path("no-config"))
        .env("BUILT_LOG", farm.path("built.log"))
        .output()
        .unwrap();
    let said = text(&out);
    let run_out =
        |n: u32| fs::read_to_string(farm.path(&format!("run{n}.out"))).unwrap_or_default();
    assert!(said.contains("run1 0"), "{said}\n{}", run_out(1));
    assert!(said.contains("run2 1"), "{said}\n{}", run_out(2));
    assert!(
        run_out(2).contains("raku-second: failed: built, but not added to the repository"),
        "{}",
        run_out(2)
    );
    assert_eq!(
        fs::read_to_string(farm.path("db.before")).unwrap(),
        fs::read_to_string(farm.path("db.after")).unwrap(),
        "the live database changed"
    );
    assert!(said.contains("run3 0"), "{said}\n{}", run_out(3));
    assert!(
        said.contains("raku-first-1.0-1/\nraku-second-1.0-1/"),
        "{said}"
    );
    assert_eq!(
        farm.built(),
        ["raku-first 1.0-1", "raku-second 1.0-1", "raku-second 1.0-1"]
    );
}
