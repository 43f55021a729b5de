//! `raku-aur sync` end to end: real index data, tarballs from a local HTTP server, and a real
//! sshd on 127.0.0.1 that behaves like the AUR (forced command, bare repositories, a
//! pre-receive hook with the AUR's push rules).

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::{Command, Output};

use crate::common;
use common::fixtures::REA_ARCHIVE_PREFIX;
use common::git::bare as git;
use common::sshd;
use common::world::aur_metadata;
use serde_json::{Value, json};

/// The distribution whose closure the tests publish: JSON::Marshal needs JSON::Fast and
/// JSON::Name, which needs JSON::OptIn — a chain three deep.
const TOP: &str = "JSON::Marshal";
const CHAIN: [&str; 4] = [
    "raku-json-fast",
    "raku-json-marshal",
    "raku-json-name",
    "raku-json-optin",
];

fn sample() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rea-sample.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The shared set-up under this suite's own type, which takes this suite's helpers: in the one
/// test crate, helpers of several suites on the shared type would clash by name.
struct World(common::world::World);

impl Deref for World {
    type Target = common::world::World;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for World {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl World {
    fn new(entries: &[Value], aur_metadata: &Value) -> World {
        World(common::world::World::new(entries, aur_metadata))
    }

    fn sync(&self, extra: &[&str]) -> Output {
        self.sync_as(&self.aur.client_key(), &self.known_hosts(), extra)
    }

    /// Runs sync over every distribution of the index (no `--only`).
    fn sync_everything(&self, extra: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        let (key, known_hosts) = (self.aur.client_key(), self.known_hosts());
        common::sync_cmd::add_sync_args(
            &mut command,
            self.root(),
            &self.http,
            &self.aur,
            &key,
            &known_hosts,
        );
        command.args(extra).output().expect("raku-aur runs")
    }

    /// Runs git as the person `who` (author and committer), over the server's ssh.
    fn git_as(&self, who: &str, args: &[&str], dir: Option<&Path>) {
        let mut cmd = Command::new("git");
        if let Some(d) = dir {
            cmd.current_dir(d);
        }
        let email = format!("{who}@example.org");
        let out = cmd
            .args(args)
            .env("GIT_SSH_COMMAND", self.aur.git_ssh_command())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path("."))
            .env("GIT_AUTHOR_NAME", who)
            .env("GIT_AUTHOR_EMAIL", &email)
            .env("GIT_COMMITTER_NAME", who)
            .env("GIT_COMMITTER_EMAIL", &email)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs sync with this client key and these pinned host keys.
    fn sync_as(&self, key: &Path, known_hosts: &Path, extra: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        common::sync_cmd::add_sync_args(
            &mut command,
            self.root(),
            &self.http,
            &self.aur,
            key,
            known_hosts,
        );
        command
            .args(["--only", TOP])
            .args(extra)
            .env("RUST_LOG", "info")
            .output()
            .expect("raku-aur runs")
    }

    /// Commit subjects on the server, newest first; empty when the repository does not exist.
    fn commits(&self, pkgbase: &str) -> Vec<String> {
        let repo = self.aur.bare_repo(pkgbase);
        // Fetching a new package creates it empty on the server, as the AUR does.
        if !repo.join("HEAD").exists() || git(&repo, &["branch", "--list", "master"]).is_empty() {
            return Vec::new();
        }
        let out = git(&repo, &["log", "--format=%s", "master"]);
        out.lines().map(str::to_string).collect()
    }

    fn tip_file(&self, pkgbase: &str, file: &str) -> String {
        git(
            &self.aur.bare_repo(pkgbase),
            &["show", &format!("master:{file}")],
        )
    }

    fn status_of(&self, pkgbase: &str) -> String {
        self.report()["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pkgbase"] == pkgbase)
            .map(|p| p["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| "absent".into())
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn srcinfo_field(srcinfo: &str, key: &str) -> String {
    srcinfo
        .lines()
        .find_map(|l| l.strip_prefix(&format!("\t{key} = ")))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn publishes_a_chain_then_changes_only_what_changed() {
    let mut entries = sample();
    let world = World::new(&entries, &aur_metadata(&[]));

    // First publication: the whole chain, dependencies first.
    let first = world.sync(&[]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&first),
        world.aur.log()
    );
    for pkgbase in CHAIN {
        assert_eq!(world.commits(pkgbase).len(), 1, "{pkgbase}");
        assert_eq!(world.status_of(pkgbase), "pushed");
        let srcinfo = world.tip_file(pkgbase, ".SRCINFO");
        assert_eq!(srcinfo_field(&srcinfo, "pkgrel"), "1");
        assert!(srcinfo.starts_with(&format!("pkgbase = {pkgbase}\n")));
    }
    let log = stderr(&first);
    let pos = |name: &str| {
        log.find(&format!("package={name} status=pushed"))
            .unwrap_or_else(|| panic!("{name} in {log}"))
    };
    assert!(pos("raku-json-optin") < pos("raku-json-name"));
    assert!(pos("raku-json-name") < pos("raku-json-marshal"));
    assert!(pos("raku-json-fast") < pos("raku-json-marshal"));
    let keywords = world.aur.keywords_log();
    for pkgbase in CHAIN {
        assert!(keywords.contains(&format!("{pkgbase} raku")), "{keywords}");
    }

    // A second run with the same input: no commit, no push.
    let again = world.sync(&[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    for pkgbase in CHAIN {
        assert_eq!(world.commits(pkgbase).len(), 1, "{pkgbase}");
        assert_eq!(world.status_of(pkgbase), "unchanged");
    }

    // Upstream releases JSON::OptIn 0.0.3: one commit, pkgrel back to 1.
    let optin = entries
        .iter_mut()
        .find(|e| e["name"] == "JSON::OptIn")
        .unwrap();
    optin["version"] = json!("0.0.3");
    optin["dist"] = json!("JSON::OptIn:ver<0.0.3>:auth<zef:jonathanstowe>");
    optin["source-url"] = json!(format!(
        "{REA_ARCHIVE_PREFIX}J/JSON%3A%3AOptIn/JSON%3A%3AOptIn%3Aver%3C0.0.3%3E.tar.gz"
    ));
    let optin = optin.clone();
    world.add_archive(&optin);
    // And JSON::Name's description changes in the same version: a packaging-only change.
    let name = entries
        .iter_mut()
        .find(|e| e["name"] == "JSON::Name")
        .unwrap();
    name["description"] = json!("Provide a name for a JSON attribute, now better described");
    world.set_index(&entries);
    let bumped = world.sync(&[]);
    assert_eq!(bumped.status.code(), Some(0), "{}", stderr(&bumped));
    assert_eq!(
        world.commits("raku-json-optin"),
        ["Update to 0.0.3", "Add raku-json-optin 0.0.2"]
    );
    let optin_srcinfo = world.tip_file("raku-json-optin", ".SRCINFO");
    assert_eq!(srcinfo_field(&optin_srcinfo, "pkgver"), "0.0.3");
    assert_eq!(srcinfo_field(&optin_srcinfo, "pkgrel"), "1");
    let name_commits = world.commits("raku-json-name");
    assert_eq!(name_commits.len(), 2);
    assert!(
        name_commits[0].starts_with("Regenerate: "),
        "{name_commits:?}"
    );
    assert_eq!(
        srcinfo_field(&world.tip_file("raku-json-name", ".SRCINFO"), "pkgrel"),
        "2"
    );
    assert_eq!(world.commits("raku-json-fast").len(), 1);
    assert_eq!(world.commits("raku-json-marshal").len(), 1);
}

#[test]
fn dry_run_changes_nothing_and_shows_the_diff() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    let out = world.sync(&["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("+++ b/PKGBUILD") && stdout.contains("+pkgname=raku-json-optin"),
        "{stdout}"
    );
    for pkgbase in CHAIN {
        assert!(world.commits(pkgbase).is_empty());
        assert_eq!(world.status_of(pkgbase), "would-push");
    }
}

#[test]
fn a_refused_push_is_reported_and_the_others_go_on() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    // The server refuses raku-json-fast (someone else owns it there).
    world.aur.set_owner("raku-json-fast", "someone-else");
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(world.status_of("raku-json-fast"), "failed");
    let report = world.report();
    let fast = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pkgbase"] == "raku-json-fast")
        .unwrap();
    assert!(
        fast["detail"]
            .as_str()
            .unwrap()
            .contains("You are not allowed to push"),
        "{fast}"
    );
    // Its dependent waits; the independent branch is published.
    assert_eq!(world.status_of("raku-json-marshal"), "waiting");
    assert_eq!(world.status_of("raku-json-optin"), "pushed");
    assert_eq!(world.status_of("raku-json-name"), "pushed");
    assert!(world.commits("raku-json-marshal").is_empty());
}

/// A host key no pin accepts is not one package's failure: the run stops at the first
/// connection, exit 2, with the offered fingerprint and what to do, and connects no more.
#[test]
fn a_wrong_host_key_stops_the_run_at_the_first_connection() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    let other = sshd::start();
    let wrong = world.path("wrong_known_hosts");
    // The other server's key, pinned for our server's address.
    let line = other.known_hosts_line().replace(
        &format!(":{}]", other.port()),
        &format!(":{}]", world.aur.port()),
    );
    std::fs::write(&wrong, format!("{line}\n")).unwrap();
    let before = world.aur.connections();
    let out = world.sync_as(&world.aur.client_key(), &wrong, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let last = stderr(&out).lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("raku-aur: "), "{last}");
    assert!(last.contains(&world.aur.host_key_fingerprint()), "{last}");
    assert!(last.contains("known-hosts"), "{last}");
    assert!(last.contains(&wrong.display().to_string()), "{last}");
    assert_eq!(world.aur.connections() - before, 1, "{}", world.aur.log());
    for pkgbase in CHAIN {
        assert!(world.commits(pkgbase).is_empty());
    }
}

/// The server refusing our key is the same: stop, say which key, connect no more.
#[test]
fn an_unknown_client_key_stops_the_run_without_looping() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    let stranger = sshd::start();
    let before = world.aur.connections();
    let out = world.sync_as(&stranger.client_key(), &world.known_hosts(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let last = stderr(&out).lines().last().unwrap_or_default().to_string();
    assert!(last.contains("refused our ssh key"), "{last}");
    assert!(
        last.contains(&stranger.client_key().display().to_string()),
        "{last}"
    );
    assert_eq!(world.aur.connections() - before, 1, "{}", world.aur.log());
}

/// First publications are paced: with `max-new-per-run = 2`, six new packages need three
/// runs; the ones left wait (not a failure) and the report says how many runs it takes.
#[test]
fn new_packages_go_up_at_the_configured_pace() {
    let solo: Vec<Value> = (1..=5)
        .map(|i| {
            common::fixtures::index_entry(&serde_json::json!({
                "name": format!("Paced::N{i}"),
                "version": "1.0",
                "auth": "zef:paced",
                "description": "one of five independent distributions",
                "license": "Artistic-2.0",
                "provides": { format!("Paced::N{i}"): format!("lib/Paced/N{i}.rakumod") },
            }))
        })
        .collect();
    let world = World::new(&solo, &aur_metadata(&[]));
    let config = world.path("pace.toml");
    std::fs::write(&config, "[publish]\nmax-new-per-run = 2\n").unwrap();
    let run = || {
        let out = world.sync_everything(&["--config", config.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report = world.report();
        let pushed = report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "pushed")
            .count();
        (pushed, report["pace"].clone())
    };
    let (pushed, pace) = run();
    assert_eq!(pushed, 2);
    assert_eq!(pace["runs_needed"], 3, "{pace}");
    assert_eq!(pace["waiting"], 3, "{pace}");
    let waiting = world.status_of("raku-paced-n5");
    assert_eq!(waiting, "waiting");
    let (pushed, pace) = run();
    assert_eq!((pushed, pace["runs_needed"].as_u64()), (2, Some(2)));
    let (pushed, pace) = run();
    assert_eq!((pushed, pace["runs_needed"].as_u64()), (1, Some(1)));
    assert_eq!(world.aur.repo_names().len(), 5);
}

/// A server that is down for one package is down for all: after three packages in a row
/// could not reach it, the others are not tried (failed, for the next run to retry).
#[test]
fn an_unreachable_server_is_tried_three_times_not_once_per_package() {
    let solo: Vec<Value> = (1..=6)
        .map(|i| {
            common::fixtures::index_entry(&serde_json::json!({
                "name": format!("Solo::N{i}"),
                "version": "1.0",
                "auth": "zef:solo",
                "description": "one of six independent distributions",
                "license": "Artistic-2.0",
                "provides": { format!("Solo::N{i}"): format!("lib/Solo/N{i}.rakumod") },
            }))
        })
        .collect();
    let mut world = World::new(&solo, &aur_metadata(&[]));
    world.aur.stop();
    let out = world.sync_everything(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let details: Vec<String> = world.report()["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["status"], "failed", "{p}");
            p["detail"].as_str().unwrap().to_string()
        })
        .collect();
    let (not_tried, tried): (Vec<&String>, Vec<&String>) =
        details.iter().partition(|d| d.starts_with("not tried"));
    assert_eq!(tried.len(), 3, "{details:#?}");
    assert!(
        tried.iter().all(|d| d.contains("cannot reach")),
        "{details:#?}"
    );
    assert_eq!(not_tried.len(), 3, "{details:#?}");
}

#[test]
fn the_server_down_fails_this_run_and_the_next_run_catches_up() {
    let mut world = World::new(&sample(), &aur_metadata(&[]));
    world.aur.stop();
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        !world.path("state/published.json").exists() || {
            let p: Value =
                serde_json::from_slice(&std::fs::read(world.path("state/published.json")).unwrap())
                    .unwrap();
            p["packages"].as_object().unwrap().is_empty()
        }
    );
    world.aur.restart();
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for pkgbase in CHAIN {
        assert_eq!(world.commits(pkgbase).len(), 1);
    }
}

#[test]
fn someone_else_pushing_in_between_is_fetched_and_built_upon() {
    let mut entries = sample();
    let world = World::new(&entries, &aur_metadata(&[]));
    assert_eq!(world.sync(&[]).status.code(), Some(0));

    // A co-maintainer adds a file to raku-json-optin behind our back.
    let clone = world.path("other-clone");
    let env_git = |args: &[&str], dir: Option<&Path>| world.git_as("co", args, dir);
    let url = world
        .aur
        .remote_template()
        .replace("{pkgbase}", "raku-json-optin");
    env_git(&["clone", "-q", &url, clone.to_str().unwrap()], None);
    std::fs::write(clone.join("README"), "kept by a human\n").unwrap();
    env_git(&["add", "README"], Some(&clone));
    env_git(&["commit", "-qm", "Add a README"], Some(&clone));
    env_git(&["push", "-q", "origin", "master"], Some(&clone));

    // Upstream moves on: sync works on the server's tip, so its commit sits on top of the
    // human's, which is kept (never a force-push).
    let optin = entries
        .iter_mut()
        .find(|e| e["name"] == "JSON::OptIn")
        .unwrap();
    optin["version"] = json!("0.0.3");
    optin["source-url"] = json!(format!(
        "{REA_ARCHIVE_PREFIX}J/JSON%3A%3AOptIn/JSON%3A%3AOptIn%3Aver%3C0.0.3%3E.tar.gz"
    ));
    let optin = optin.clone();
    world.add_archive(&optin);
    world.set_index(&entries);
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        world.commits("raku-json-optin"),
        [
            "Update to 0.0.3",
            "Add a README",
            "Add raku-json-optin 0.0.2"
        ]
    );
    assert_eq!(
        world.tip_file("raku-json-optin", "README"),
        "kept by a human\n"
    );
}

#[test]
fn a_trusted_perl6_package_stands_in_and_is_depended_on() {
    // A hand-written package (in the shipped list of trusted stand-ins) ships JSON::Fast.
    let aur = aur_metadata(&[
        json!({"Name": "perl6-json-fast", "PackageBase": "perl6-json-fast", "Version": "0.21-1",
               "Maintainer": "human", "Depends": ["perl6"]}),
    ]);
    let world = World::new(&sample(), &aur);
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(world.commits("raku-json-fast").is_empty());
    let marshal = world.tip_file("raku-json-marshal", ".SRCINFO");
    let depends: Vec<&str> = marshal
        .lines()
        .filter_map(|l| l.strip_prefix("\tdepends = "))
        .collect();
    assert!(depends.contains(&"perl6-json-fast>=0.16"), "{depends:?}");
    let covered = world.report()["covered"].to_string();
    assert!(covered.contains("perl6-json-fast"), "{covered}");
}

/// Any AUR account can upload a package that provides `raku-<x>` or is named after a
/// distribution. Such a package is not depended on: the distribution is held with a reason
/// naming the package and its maintainer, and so is everything that needs it, until the
/// operator trusts it in the config file.
#[test]
fn a_stranger_claiming_a_distribution_holds_it_instead_of_being_depended_on() {
    let aur = aur_metadata(&[
        json!({"Name": "totally-legit", "PackageBase": "totally-legit", "Version": "1-1",
               "Maintainer": "stranger", "Depends": ["rakudo"],
               "Provides": ["raku-json-name=9.9"]}),
        json!({"Name": "raku-json-optin", "PackageBase": "raku-json-optin", "Version": "0.0.1-1",
               "Maintainer": "someone-else", "Depends": ["rakudo"]}),
    ]);
    let world = World::new(&sample(), &aur);
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for pkgbase in ["raku-json-name", "raku-json-optin", "raku-json-marshal"] {
        assert!(world.commits(pkgbase).is_empty(), "{pkgbase}");
    }
    let held = world.report()["held"].clone();
    let reason_of = |dist: &str| {
        held.as_array()
            .unwrap()
            .iter()
            .find(|h| h["dist"].as_str().unwrap().starts_with(dist))
            .unwrap_or_else(|| panic!("{dist} is not held: {held}"))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let name = reason_of("JSON::Name:");
    assert!(
        name.contains("totally-legit (maintained by stranger)") && name.contains("not a trusted"),
        "{name}"
    );
    let optin = reason_of("JSON::OptIn:");
    assert!(
        optin.contains("raku-json-optin (maintained by someone-else)"),
        "{optin}"
    );
    assert!(reason_of("JSON::Marshal:").contains("held back"));
    assert!(
        !world.report()["covered"]
            .to_string()
            .contains("totally-legit")
    );
    // Nothing we published depends on the stranger's package.
    let pushed: Vec<String> = world
        .aur
        .repo_names()
        .into_iter()
        .filter(|p| !world.commits(p).is_empty())
        .collect();
    assert!(pushed.contains(&"raku-json-fast".to_string()), "{pushed:?}");
    for pkgbase in &pushed {
        let srcinfo = world.tip_file(pkgbase, ".SRCINFO");
        assert!(!srcinfo.contains("totally-legit"), "{pkgbase}: {srcinfo}");
    }

    // Once the operator trusts them (by name, or by maintainer), they stand in like
    // hand-written packages.
    let config = world.path("trust.toml");
    let trust = "[trust]\npackages = [\"totally-legit\"]\nmaintainers = [\"someone-else\"]\n";
    std::fs::write(&config, trust).unwrap();
    let out = world.sync(&["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let marshal = world.tip_file("raku-json-marshal", ".SRCINFO");
    assert!(marshal.contains("\tdepends = totally-legit"), "{marshal}");
    assert!(marshal.contains("\tdepends = raku-json-optin"), "{marshal}");
    let covered = world.report()["covered"].to_string();
    assert!(covered.contains("totally-legit") && covered.contains("raku-json-optin"));
}

#[test]
fn aur_versions_alpm_types_cannot_compare_stop_nothing() {
    // Issue 11: `provides=('raku-json-fast=100000000000000000000000')` made sync panic (exit
    // 101) inside alpm-types' version comparison, on every run. An entry that cannot be
    // compared counts for nothing: the distributions it claims are published as ours.
    let huge = "100000000000000000000000";
    let aur = aur_metadata(&[
        json!({"Name": "totally-legit", "PackageBase": "totally-legit", "Version": "1-1",
               "Maintainer": "stranger", "Depends": ["rakudo"],
               "Provides": [format!("raku-json-fast={huge}")]}),
        json!({"Name": "perl6-json-name", "PackageBase": "perl6-json-name",
               "Version": format!("0.{huge}-1"), "Maintainer": "stranger",
               "Depends": ["perl6"]}),
    ]);
    let world = World::new(&sample(), &aur);
    let out = world.sync(&[]);
    let err = stderr(&out);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for pkgbase in CHAIN {
        assert_eq!(world.commits(pkgbase).len(), 1, "{pkgbase}: {err}");
    }
    let marshal = world.tip_file("raku-json-marshal", ".SRCINFO");
    assert!(marshal.contains("\tdepends = raku-json-fast"), "{marshal}");
    assert!(marshal.contains("\tdepends = raku-json-name"), "{marshal}");
    for skipped in ["totally-legit", "perl6-json-name"] {
        assert!(
            err.lines()
                .any(|l| l.contains("AUR package skipped") && l.contains(skipped)),
            "{err}"
        );
    }
    assert_eq!(world.report()["covered"], json!([]));
}

#[test]
fn a_name_taken_by_something_else_is_never_pushed_to() {
    // raku-json-optin on the AUR is not a Raku package (it does not run on rakudo): it cannot
    // stand in for JSON::OptIn, and its name is not ours to push to.
    let aur = aur_metadata(&[
        json!({"Name": "raku-json-optin", "PackageBase": "raku-json-optin",
        "Version": "1-1", "Maintainer": "someone-else", "Depends": ["glibc"]}),
    ]);
    let world = World::new(&sample(), &aur);
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(world.commits("raku-json-optin").is_empty());
    let held = world.report()["held"].to_string();
    assert!(
        held.contains(
            "raku-json-optin on the AUR belongs to someone-else and does not ship this distribution"
        ),
        "{held}"
    );
    // JSON::Name needs it, and JSON::Marshal needs JSON::Name: both wait for a human.
    assert!(
        world.commits("raku-json-name").is_empty() && world.commits("raku-json-marshal").is_empty()
    );
    assert_eq!(world.commits("raku-json-fast").len(), 1);
}

#[test]
fn a_dependency_that_exists_nowhere_holds_the_package_back() {
    // No rakudo in the AUR metadata: nothing can be installed, so nothing is pushed.
    let world = World::new(&sample(), &json!([]));
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for pkgbase in CHAIN {
        assert!(world.commits(pkgbase).is_empty());
    }
    let held = world.report()["held"].to_string();
    assert!(
        held.contains("needs rakudo, which is neither on the AUR nor in Arch's repositories"),
        "{held}"
    );
}

#[test]
fn a_second_sync_exits_at_once_while_the_lock_is_held() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    std::fs::create_dir_all(world.path("state")).unwrap();
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(world.path("state/lock"))
        .unwrap();
    lock.lock().unwrap();
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("another raku-aur sync is running"),
        "{}",
        stderr(&out)
    );
    assert!(world.http.requests().is_empty());
    drop(lock);
}

#[test]
fn unusable_aur_metadata_stops_the_run_before_anything_is_pushed() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    let good = std::fs::read(world.path("aur.json")).unwrap();
    std::fs::write(world.path("aur.json"), &good[..good.len() / 2]).unwrap();
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is unusable; without it nothing can be published safely"),
        "{}",
        stderr(&out)
    );
    for pkgbase in CHAIN {
        assert!(world.commits(pkgbase).is_empty());
    }
    assert!(
        world.http.requests().is_empty(),
        "nothing is downloaded either"
    );
}

/// Packages that ship a script of the same name conflict with each other, and that stays so
/// when a run renders only some of them (`--only`): the others' scripts come from what
/// published.json records. A package that ships the same script as a package it needs could
/// never be installed: it is held back.
#[test]
fn script_conflicts_come_from_everything_published_not_from_one_run() {
    let tool = |name: &str, depends: &[&str]| {
        common::fixtures::index_entry(&json!({
            "name": name,
            "version": "1.0",
            "auth": "zef:tools",
            "description": "ships the tool script",
            "license": "Artistic-2.0",
            "depends": depends,
            "provides": { name: format!("lib/{}.rakumod", name.replace("::", "/")) },
            "bin": { "tool": "bin/tool" },
        }))
    };
    let entries = [
        tool("Tool::A", &[]),
        tool("Tool::B", &[]),
        tool("Tool::C", &["Tool::A"]),
    ];
    let world = World::new(&entries, &aur_metadata(&[]));
    let sync = |only: &[&str]| {
        let mut extra = Vec::new();
        for name in only {
            extra.extend(["--only", name]);
        }
        let out = world.sync_everything(&extra);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    let conflicts = |pkgbase: &str| -> Vec<String> {
        world
            .tip_file(pkgbase, ".SRCINFO")
            .lines()
            .filter_map(|l| l.strip_prefix("\tconflicts = "))
            .map(str::to_string)
            .collect()
    };
    sync(&[]);
    assert_eq!(conflicts("raku-tool-a"), ["raku-tool-b"]);
    assert_eq!(conflicts("raku-tool-b"), ["raku-tool-a"]);
    assert!(world.commits("raku-tool-c").is_empty());
    let held = world.report()["held"].to_string();
    assert!(
        held.contains("ships a script that raku-tool-a, which it needs, ships too"),
        "{held}"
    );

    // Tool::B alone: its conflict with the published raku-tool-a stays, nothing is pushed.
    sync(&["Tool::B"]);
    assert_eq!(world.status_of("raku-tool-b"), "unchanged");
    assert_eq!(world.commits("raku-tool-b").len(), 1);
    assert_eq!(conflicts("raku-tool-b"), ["raku-tool-a"]);
}

/// After our account adopted `perl6-json-fast` (the AUR's metadata says we maintain it),
/// JSON::Fast is published in that package, under its name, on top of its history, providing
/// `raku-json-fast`; our packages depend on it. The first push to it waits for review.
#[test]
fn an_adopted_stand_in_is_maintained_in_place_on_top_of_its_history() {
    let aur = aur_metadata(&[
        json!({"Name": "perl6-json-fast", "PackageBase": "perl6-json-fast",
        "Version": "0.9.10-1", "Maintainer": common::sshd::BOT_ACCOUNT, "Depends": ["perl6"]}),
    ]);
    let world = World::new(&sample(), &aur);
    // The package as its previous maintainer left it.
    let clone = world.path("human-clone");
    let git = |args: &[&str], dir: Option<&Path>| world.git_as("human", args, dir);
    let url = world
        .aur
        .remote_template()
        .replace("{pkgbase}", "perl6-json-fast");
    git(&["clone", "-q", &url, clone.to_str().unwrap()], None);
    std::fs::write(
        clone.join("PKGBUILD"),
        "pkgname=perl6-json-fast\npkgver=0.9.10\npkgrel=1\npkgdesc='JSON'\narch=('any')\n\
         depends=('perl6')\nsource=()\npackage() { :; }\n",
    )
    .unwrap();
    std::fs::write(
        clone.join(".SRCINFO"),
        "pkgbase = perl6-json-fast\n\tpkgdesc = JSON\n\tpkgver = 0.9.10\n\tpkgrel = 1\n\
         \tarch = any\n\tdepends = perl6\n\npkgname = perl6-json-fast\n",
    )
    .unwrap();
    git(&["add", "PKGBUILD", ".SRCINFO"], Some(&clone));
    git(&["commit", "-qm", "Version 0.9.10"], Some(&clone));
    git(&["push", "-q", "origin", "master"], Some(&clone));

    // With the review gate on, the first push to it waits for a maintainer.
    let config = world.path("review.toml");
    std::fs::write(&config, "[review]\nchanges = [\"adoption\"]\n").unwrap();
    let out = world.sync(&["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(world.status_of("perl6-json-fast"), "review");
    assert_eq!(world.commits("perl6-json-fast"), ["Version 0.9.10"]);

    // Without the gate it goes up, on top of the human's commit.
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(world.status_of("perl6-json-fast"), "pushed");
    let commits = world.commits("perl6-json-fast");
    assert_eq!(commits.len(), 2, "{commits:?}");
    assert_eq!(commits[1], "Version 0.9.10");
    let srcinfo = world.tip_file("perl6-json-fast", ".SRCINFO");
    assert!(
        srcinfo.starts_with("pkgbase = perl6-json-fast\n"),
        "{srcinfo}"
    );
    assert!(
        srcinfo.contains("\tprovides = raku-json-fast=0.21\n"),
        "{srcinfo}"
    );
    assert!(world.commits("raku-json-fast").is_empty());
    let marshal = world.tip_file("raku-json-marshal", ".SRCINFO");
    assert!(
        marshal.contains("\tdepends = perl6-json-fast>="),
        "{marshal}"
    );
}

/// A stand-in that leaves the AUR (deleted, or merged into another package) is replaced by
/// ours, which provides and conflicts with its name so that installing ours replaces it; and
/// a distribution that leaves the index is listed for a deletion request, not forgotten.
#[test]
fn a_vanished_stand_in_is_replaced_and_a_vanished_distribution_is_reported() {
    let with_stand_in = aur_metadata(&[json!({"Name": "perl6-json-fast",
        "PackageBase": "perl6-json-fast", "Version": "0.21-1", "Maintainer": "human",
        "Depends": ["perl6"]})]);
    let world = World::new(&sample(), &with_stand_in);
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(world.commits("raku-json-fast").is_empty());

    // perl6-json-fast is deleted from the AUR.
    std::fs::write(
        world.path("aur.json"),
        serde_json::to_vec(&aur_metadata(&[])).unwrap(),
    )
    .unwrap();
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let srcinfo = world.tip_file("raku-json-fast", ".SRCINFO");
    assert!(
        srcinfo.contains("\tprovides = perl6-json-fast\n"),
        "{srcinfo}"
    );
    assert!(
        srcinfo.contains("\tconflicts = perl6-json-fast\n"),
        "{srcinfo}"
    );
    let replaced = world.report()["replaced"].to_string();
    assert!(
        replaced.contains("raku-json-fast") && replaced.contains("perl6-json-fast"),
        "{replaced}"
    );

    // JSON::OptIn leaves the index: its package is reported, not silently kept.
    let entries: Vec<Value> = sample()
        .into_iter()
        .filter(|e| e["name"] != "JSON::OptIn")
        .collect();
    world.set_index(&entries);
    let out = world.sync_everything(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let gone = world.report()["gone_from_index"].to_string();
    assert!(gone.contains("raku-json-optin"), "{gone}");
}

/// With `[legacy]`, sync adopts an orphaned stand-in and flags a stale one over the AUR's
/// ssh interface: at most `max-actions-per-run` a run, each recorded so that no rerun repeats
/// it; a refusal is reported, not fatal.
#[test]
fn legacy_steps_are_taken_once_each_at_the_configured_pace() {
    let aur = aur_metadata(&[
        json!({"Name": "perl6-json-fast", "PackageBase": "perl6-json-fast",
            "Version": "0.9.10-1", "Depends": ["perl6"]}),
        json!({"Name": "perl6-json-name", "PackageBase": "perl6-json-name",
            "Version": "0.0.1-1", "Maintainer": "human", "Depends": ["perl6"]}),
    ]);
    let world = World::new(&sample(), &aur);
    for (pkgbase, owner) in [("perl6-json-fast", "-"), ("perl6-json-name", "human")] {
        // The packages exist on the server (cloning creates them, as the AUR's do).
        let url = world.aur.remote_template().replace("{pkgbase}", pkgbase);
        let out = Command::new("git")
            .args(["clone", "-q", &url])
            .arg(world.path(pkgbase))
            .env("GIT_SSH_COMMAND", world.aur.git_ssh_command())
            .env("HOME", world.path("."))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        world.aur.set_owner(pkgbase, owner);
    }
    let config = world.path("legacy.toml");
    std::fs::write(
        &config,
        "[legacy]\nadopt-orphans = true\nflag-out-of-date = true\nmax-actions-per-run = 1\n",
    )
    .unwrap();
    // Every distribution, not only JSON::Marshal's closure: that is held (perl6-json-name is
    // too old for it), and a held package's stand-ins are out of an --only run's scope.
    let run = || {
        let out = world.sync_everything(&["--config", config.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        world.report()["legacy_actions"].clone()
    };
    // The stand-in that holds back most goes first: JSON::Fast is needed by JSON::Marshal.
    let first = run();
    assert_eq!(first[0]["package"], "perl6-json-fast", "{first}");
    assert_eq!(first[0]["action"], "adopt");
    assert_eq!(first[0]["outcome"], "done");
    assert_eq!(first.as_array().unwrap().len(), 1);
    let second = run();
    assert_eq!(second[0]["package"], "perl6-json-name", "{second}");
    assert_eq!(second[0]["action"], "flag");
    assert_eq!(second[0]["outcome"], "done");
    let third = run();
    assert!(third.as_array().unwrap().is_empty(), "{third}");
    let log = world.aur.actions_log();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[0], "adopt perl6-json-fast");
    assert!(
        lines[1].starts_with("flag perl6-json-name 'JSON::Name 0.0.7 is released"),
        "{log}"
    );
}
