//! The review gate end to end: the fixture ecosystem (`tests/fixtures/ecosystem/`) served from
//! a local HTTP server and published to the AUR-like sshd, with a review policy set
//! in-process (the config file that sets it in production is tested through the binary), and
//! `raku-aur review|approve|reject` run as the binary.

use std::process::{Command, Output};

use crate::common;
use clap::Parser;
use common::fixtures::{self, REA_ARCHIVE_PREFIX};
use common::git::bare as git;
use common::world::aur_metadata;
use raku_aur::cli::{Cli, Command as CliCommand};
use raku_aur::review::ReviewKind;
use raku_aur::sync::RunOutcome as Outcome;
use serde_json::{Value, json};

const BASE: &str = "raku-fixture-base";
const CHECKED: &str = "raku-fixture-checked";
const MIDDLE: &str = "raku-fixture-middle";
const NATIVE: &str = "raku-fixture-native";
const RESOURCES: &str = "raku-fixture-resources";
const TOP: &str = "raku-fixture-top";
const ALL: [&str; 6] = [BASE, CHECKED, MIDDLE, NATIVE, RESOURCES, TOP];

/// The fixtures' META6 files as REA index entries. Base, Resources and Native need nothing
/// of ours; Checked tests with Base; Middle needs Base and Resources; Top needs Middle and
/// Native (which needs zlib, a system package).
fn fixture_entries() -> Vec<Value> {
    fixtures::fixture_metas()
        .iter()
        .map(|(_, meta)| fixtures::index_entry(meta))
        .collect()
}

/// `entry` as release `version`, with REA's `dist` and `source-url` to match.
fn with_version(mut entry: Value, version: &str) -> Value {
    entry["version"] = json!(version);
    fixtures::index_entry(&entry)
}

/// A config file's `[review]` table naming every kind of change.
fn every_kind() -> String {
    let kinds: Vec<String> = ReviewKind::ALL
        .iter()
        .map(|k| format!("{:?}", k.as_str()))
        .collect();
    format!(
        "[review]\nchanges = [{}]\narchive = [{REA_ARCHIVE_PREFIX:?}]\n",
        kinds.join(", ")
    )
}

/// The shared set-up, and the index entries as this test has released them so far.
struct World {
    base: common::world::World,
    entries: Vec<Value>,
}

impl World {
    fn new() -> World {
        let entries = fixture_entries();
        World {
            base: common::world::World::new(&entries, &aur_metadata(&[])),
            entries,
        }
    }

    /// Replaces the release of `name` by `change(entry)` as a new upstream `version`.
    fn release(&mut self, name: &str, version: &str, change: impl FnOnce(&mut Value)) {
        let at = self.entries.iter().position(|e| e["name"] == name).unwrap();
        let mut entry = with_version(self.entries[at].clone(), version);
        change(&mut entry);
        self.base.add_archive(&entry);
        self.entries[at] = entry;
        self.base.set_index(&self.entries);
    }

    /// `raku_aur::sync::run` with the flags the sync suites use, `extra`, and a config file
    /// holding `review` (a `[review]` table), resolved into settings as the binary does.
    fn sync(&self, review: Option<String>, extra: &[&str]) -> Outcome {
        let mut flags = Command::new("raku-aur");
        common::sync_cmd::add_sync_args(
            &mut flags,
            self.base.root(),
            &self.base.http,
            &self.base.aur,
            &self.base.aur.client_key(),
            &self.base.known_hosts(),
        );
        flags.args(extra);
        let argv = std::iter::once(std::ffi::OsStr::new("raku-aur")).chain(flags.get_args());
        let CliCommand::Sync(args) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not a sync command line");
        };
        let config = review.map(|table| {
            let path = self.base.path("config.toml");
            raku_aur::config::parse(&table, &path).unwrap_or_else(|e| panic!("{e}"))
        });
        let settings = raku_aur::settings::sync(args, config.as_ref())
            .settings()
            .unwrap_or_else(|e| panic!("{e}"));
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(raku_aur::sync::run(&settings))
            .unwrap_or_else(|e| panic!("sync failed: {e:#}\n{}", self.base.aur.log()))
            .outcome
    }

    fn gated_sync(&self) -> Outcome {
        self.sync(Some(every_kind()), &[])
    }

    /// Runs `raku-aur <args> --state STATE`.
    fn command(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_raku-aur"))
            .args(args)
            .arg("--state")
            .arg(self.base.path("state"))
            .env("XDG_CONFIG_HOME", self.base.path("config"))
            .output()
            .unwrap()
    }

    fn report(&self) -> Value {
        self.base.report()
    }

    fn package(&self, pkgbase: &str) -> Value {
        self.report()["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pkgbase"] == pkgbase)
            .cloned()
            .unwrap_or_else(|| panic!("{pkgbase} is not in the report"))
    }

    fn status(&self, pkgbase: &str) -> String {
        self.package(pkgbase)["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn detail(&self, pkgbase: &str) -> String {
        self.package(pkgbase)["detail"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Every package's status, in the order of `ALL`.
    fn statuses(&self) -> Vec<String> {
        ALL.iter().map(|p| self.status(p)).collect()
    }

    fn queue_entry(&self, pkgbase: &str) -> Option<Value> {
        let bytes = std::fs::read(self.base.path(&format!("state/review/{pkgbase}.json"))).ok()?;
        Some(serde_json::from_slice(&bytes).unwrap())
    }

    /// Commit subjects on the server, newest first; empty when nothing was pushed.
    fn commits(&self, pkgbase: &str) -> Vec<String> {
        let repo = self.base.aur.bare_repo(pkgbase);
        if !repo.join("HEAD").exists() || git(&repo, &["branch", "--list", "master"]).is_empty() {
            return Vec::new();
        }
        git(&repo, &["log", "--format=%s", "master"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

#[test]
fn first_publications_wait_until_approved_and_their_dependents_follow() {
    let mut world = World::new();
    assert_eq!(world.gated_sync(), Outcome::Clean);
    // BASE, CHECKED, MIDDLE, NATIVE, RESOURCES, TOP
    assert_eq!(
        world.statuses(),
        strings(&[
            "review", "waiting", "waiting", "review", "review", "waiting"
        ])
    );
    for pkgbase in ALL {
        assert!(world.commits(pkgbase).is_empty(), "{pkgbase} was pushed");
    }
    assert_eq!(
        world.detail(NATIVE),
        "waits for review: first publication: the AUR has no such package yet; new system dependency zlib"
    );
    assert!(
        world.detail(MIDDLE).contains(BASE) && world.detail(MIDDLE).contains(RESOURCES),
        "{}",
        world.detail(MIDDLE)
    );
    let entry = world.queue_entry(BASE).unwrap();
    assert_eq!(entry["decision"], "pending");
    assert_eq!(entry["pkgver"], "0.1");
    assert!(
        entry["diff"]
            .as_str()
            .unwrap()
            .contains("+pkgname=raku-fixture-base"),
        "{entry}"
    );
    assert!(
        world.queue_entry(MIDDLE).is_none(),
        "dependents are not queued"
    );

    // Nothing new: the queue answers without the server, which is down.
    world.base.aur.stop();
    assert_eq!(world.gated_sync(), Outcome::Clean);
    assert_eq!(
        world.statuses(),
        strings(&[
            "review", "waiting", "waiting", "review", "review", "waiting"
        ])
    );
    world.base.aur.restart();

    let review = world.command(&["review"]);
    assert_eq!(review.status.code(), Some(0), "{}", text(&review));
    let shown = String::from_utf8_lossy(&review.stdout).into_owned();
    let at = |needle: &str| {
        shown
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in:\n{shown}"))
    };
    assert!(
        at("=== raku-fixture-base 0.1: Add raku-fixture-base 0.1") < at("=== raku-fixture-native")
    );
    assert!(at("=== raku-fixture-native") < at("=== raku-fixture-resources"));
    at("  - new system dependency zlib");
    at("+++ b/PKGBUILD");
    at("+\tdepends = zlib");
    at("3 changes are waiting for review");
    at("raku-aur approve --state");

    let approve = world.command(&["approve", BASE]);
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve));
    assert!(
        text(&approve).contains("raku-fixture-base 0.1: approved; the next sync pushes it"),
        "{}",
        text(&approve)
    );
    assert_eq!(world.queue_entry(BASE).unwrap()["decision"], "approved");

    // Exactly the approved package is pushed; Checked needed only it, so it is now up for
    // review itself.
    assert_eq!(world.gated_sync(), Outcome::Clean);
    assert_eq!(
        world.statuses(),
        strings(&["pushed", "review", "waiting", "review", "review", "waiting"])
    );
    assert_eq!(world.commits(BASE), ["Add raku-fixture-base 0.1"]);
    for pkgbase in [CHECKED, MIDDLE, NATIVE, RESOURCES, TOP] {
        assert!(world.commits(pkgbase).is_empty(), "{pkgbase} was pushed");
    }
    assert!(
        world.queue_entry(BASE).is_none(),
        "a pushed entry is removed"
    );
    assert!(
        world
            .base
            .aur
            .keywords_log()
            .contains("raku-fixture-base raku")
    );

    let approve = world.command(&["approve", RESOURCES, CHECKED]);
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve));
    assert_eq!(world.gated_sync(), Outcome::Clean);
    assert_eq!(
        world.statuses(),
        strings(&[
            "unchanged",
            "pushed",
            "review",
            "review",
            "pushed",
            "waiting"
        ])
    );
    assert_eq!(world.commits(RESOURCES).len(), 1);
    assert_eq!(world.commits(CHECKED).len(), 1);

    // A routine update of an approved package goes straight through.
    world.release("Fixture::Base", "0.1.1", |_| {});
    assert_eq!(world.gated_sync(), Outcome::Clean);
    assert_eq!(world.status(BASE), "pushed");
    assert_eq!(
        world.commits(BASE),
        ["Update to 0.1.1", "Add raku-fixture-base 0.1"]
    );
}

#[test]
fn a_rejected_change_is_not_pushed_nor_queued_again_until_it_changes() {
    let mut world = World::new();
    assert_eq!(world.gated_sync(), Outcome::Clean);

    // Deciding on a package that is not queued changes nothing.
    let before = std::fs::read(world.base.path("state/review/raku-fixture-native.json")).unwrap();
    let unknown = world.command(&["reject", NATIVE, "raku-no-such"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("raku-no-such: not in the review queue"),
        "{}",
        text(&unknown)
    );
    assert_eq!(
        std::fs::read(world.base.path("state/review/raku-fixture-native.json")).unwrap(),
        before
    );
    // A running sync holds the lock: the decision fails at once rather than racing it.
    let lock = std::fs::File::options()
        .write(true)
        .open(world.base.path("state/lock"))
        .unwrap();
    lock.lock().unwrap();
    let locked = world.command(&["reject", NATIVE]);
    assert_eq!(locked.status.code(), Some(2), "{}", text(&locked));
    assert!(
        text(&locked).contains("another raku-aur sync is running"),
        "{}",
        text(&locked)
    );
    drop(lock);
    assert_eq!(world.queue_entry(NATIVE).unwrap()["decision"], "pending");

    let reject = world.command(&["reject", NATIVE]);
    assert_eq!(reject.status.code(), Some(0), "{}", text(&reject));
    assert!(text(&reject).contains("rejected"), "{}", text(&reject));
    let rejected = std::fs::read(world.base.path("state/review/raku-fixture-native.json")).unwrap();

    for _ in 0..2 {
        assert_eq!(world.gated_sync(), Outcome::Clean);
        assert_eq!(world.status(NATIVE), "rejected");
        assert!(
            world
                .detail(NATIVE)
                .starts_with("rejected by a maintainer: first publication"),
            "{}",
            world.detail(NATIVE)
        );
        assert_eq!(world.status(TOP), "waiting");
        assert!(world.commits(NATIVE).is_empty());
        assert_eq!(
            std::fs::read(world.base.path("state/review/raku-fixture-native.json")).unwrap(),
            rejected,
            "a rejected entry is not queued again"
        );
    }
    let review = world.command(&["review"]);
    assert!(
        text(&review).contains(
            "Rejected, not pushed (a different change is reviewed anew): raku-fixture-native 0.3"
        ),
        "{}",
        text(&review)
    );

    // An approval holds for the approved files only: a newer release is reviewed anew.
    let approve = world.command(&["approve", RESOURCES]);
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve));
    world.release("Fixture::Resources", "0.2.1", |_| {});
    assert_eq!(world.gated_sync(), Outcome::Clean);
    assert_eq!(world.status(RESOURCES), "review");
    let entry = world.queue_entry(RESOURCES).unwrap();
    assert_eq!(
        (entry["decision"].as_str(), entry["pkgver"].as_str()),
        (Some("pending"), Some("0.2.1"))
    );
    assert!(world.commits(RESOURCES).is_empty());

    // Upstream releases again: a different change, reviewed anew.
    world.release("Fixture::Native", "0.3.1", |_| {});
    assert_eq!(world.gated_sync(), Outcome::Clean);
    assert_eq!(world.status(NATIVE), "review");
    let entry = world.queue_entry(NATIVE).unwrap();
    assert_eq!(
        (entry["decision"].as_str(), entry["pkgver"].as_str()),
        (Some("pending"), Some("0.3.1"))
    );
    assert!(world.commits(NATIVE).is_empty());
}

#[test]
fn with_the_gate_off_everything_is_published_and_then_only_flagged_changes_wait() {
    let mut world = World::new();
    // No policy: sync behaves as it always did, and keeps no queue.
    assert_eq!(world.sync(None, &[]), Outcome::Clean);
    assert_eq!(world.statuses(), strings(&["pushed"; 6]));
    for pkgbase in ALL {
        assert_eq!(world.commits(pkgbase).len(), 1, "{pkgbase}");
    }
    assert!(!world.base.path("state/review").exists());

    // With the gate on, a routine update goes straight through while a license change waits.
    world.release("Fixture::Base", "0.1.1", |_| {});
    world.release("Fixture::Resources", "0.2.1", |e| {
        e["license"] = json!("MIT")
    });
    assert_eq!(world.gated_sync(), Outcome::Clean);
    assert_eq!(world.status(BASE), "pushed");
    assert_eq!(
        world.commits(BASE),
        ["Update to 0.1.1", "Add raku-fixture-base 0.1"]
    );
    assert_eq!(world.status(RESOURCES), "review");
    assert_eq!(
        world.detail(RESOURCES),
        "waits for review: license changes from Artistic-2.0 to MIT"
    );
    assert_eq!(world.commits(RESOURCES).len(), 1);
    // Middle needs Resources but has nothing new itself: unchanged, not waiting.
    assert_eq!(world.status(MIDDLE), "unchanged");

    // A dry run shows what would wait, and writes nothing to the queue.
    world.release("Fixture::Top", "2.0.2", |e| {
        e["auth"] = json!("zef:someone-else");
        e["dist"] = json!("Fixture::Top:ver<2.0.2>:auth<zef:someone-else>");
    });
    assert_eq!(
        world.sync(Some(every_kind()), &["--dry-run"]),
        Outcome::Clean
    );
    assert_eq!(world.status(TOP), "would-review");
    assert_eq!(
        world.detail(TOP),
        "would wait for review: auth changes from zef:raku-aur-test to zef:someone-else"
    );
    assert!(world.queue_entry(TOP).is_none());
    assert_eq!(world.commits(TOP).len(), 1);

    // And with the gate off again the queue is not consulted: the license change is pushed
    // and its entry dropped.
    assert_eq!(world.sync(None, &[]), Outcome::Clean);
    assert_eq!(world.status(RESOURCES), "pushed");
    assert_eq!(world.status(TOP), "pushed");
    assert!(world.queue_entry(RESOURCES).is_none());
}

#[test]
fn the_config_file_turns_the_gate_on_and_names_the_queue_for_the_review_commands() {
    let world = World::new();
    let config_dir = world.base.path("config/raku-aur");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!(
            "state-dir = {:?}\n[review]\nchanges = [\"first-publication\"]\n",
            world.base.path("state").display().to_string()
        ),
    )
    .unwrap();
    // XDG_CONFIG_HOME points at the file above: the binary finds it at its default place.
    let binary = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        command
            .args(args)
            .env("XDG_CONFIG_HOME", world.base.path("config"));
        command
    };
    let mut sync = binary(&[]);
    common::sync_cmd::add_sync_args(
        &mut sync,
        world.base.root(),
        &world.base.http,
        &world.base.aur,
        &world.base.aur.client_key(),
        &world.base.known_hosts(),
    );
    sync.env("XDG_CONFIG_HOME", world.base.path("config"));
    let out = sync.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        world.statuses(),
        strings(&[
            "review", "waiting", "waiting", "review", "review", "waiting"
        ])
    );
    assert!(ALL.iter().all(|p| world.commits(p).is_empty()));

    let shown = binary(&["review"]).output().unwrap();
    assert!(shown.status.success(), "{}", text(&shown));
    assert!(
        text(&shown).contains(&format!("=== {BASE} 0.1"))
            && text(&shown).contains("first publication"),
        "{}",
        text(&shown)
    );
    let approved = binary(&["approve", BASE]).output().unwrap();
    assert!(approved.status.success(), "{}", text(&approved));

    let out = sync.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(world.status(BASE), "pushed");
    assert_eq!(world.commits(BASE).len(), 1);
    assert!(world.commits(CHECKED).is_empty());
}

#[test]
fn a_review_entry_half_written_by_a_killed_run_is_cleared_at_the_next_start() {
    let world = World::new();
    assert_eq!(world.gated_sync(), Outcome::Clean);
    // What crate::fsutil::write_atomically leaves behind when the run dies mid-write.
    let leftover = world.base.path("state/review/.raku-aur-tmp-a1b2c3");
    std::fs::write(&leftover, b"{\"pkgbase\": \"raku-fix").unwrap();
    assert_eq!(world.gated_sync(), Outcome::Clean);
    assert!(!leftover.exists());
    assert_eq!(world.status(BASE), "review");
    assert!(world.queue_entry(BASE).is_some());
}
