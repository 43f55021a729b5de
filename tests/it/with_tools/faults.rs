//! `raku-aur sync` under faults: killed at random moments, HTTP servers that fail, hang or
//! cut a download short, the ssh server going away mid-run, a full disk under the state
//! directory. After each, nothing wrong may be on the server, the state files must be whole,
//! and a later run must converge to exactly what an undisturbed run publishes.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common;
use common::fixtures::{self, REA_ARCHIVE_PREFIX};
use common::git::bare as git;
use common::http::Fault;
use common::sync_cmd::Sources;
use common::world::aur_metadata;
use serde_json::{Value, json};

/// JSON::Marshal needs JSON::Fast and JSON::Name, which needs JSON::OptIn; Log::Timeline
/// needs CBOR::Simple (which needs TinyFloats) and JSON::Fast: seven packages, four levels.
const ONLY: [&str; 2] = ["JSON::Marshal", "Log::Timeline"];

fn sample() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rea-sample.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Per pkgbase on the server, its `master` history oldest first as (tree, full message).
type RemoteState = BTreeMap<String, Vec<(String, String)>>;

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

    /// The index and the AUR metadata as files.
    fn files(&self) -> Sources {
        Sources {
            index: self.path("index.json").display().to_string(),
            aur_metadata: self.path("aur.json").display().to_string(),
        }
    }

    /// The index and the AUR metadata served by the HTTP server, as `index.json` and
    /// `aur.json`, copied from the files as they are now.
    fn served(&self) -> Sources {
        for name in ["index.json", "aur.json"] {
            std::fs::copy(self.path(name), self.path("archive").join(name)).unwrap();
        }
        Sources {
            index: format!("{}index.json", self.http.base_url()),
            aur_metadata: format!("{}aur.json", self.http.base_url()),
        }
    }

    /// `raku-aur sync` with the suites' usual flags, `--only` [`ONLY`] and `extra`.
    fn sync_command(&self, extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        self.add_sync_args(&mut command, &self.files(), extra);
        command
    }

    fn add_sync_args(&self, command: &mut Command, sources: &Sources, extra: &[&str]) {
        common::sync_cmd::add_sync_args_from(
            command,
            self.root(),
            sources,
            &self.http,
            &self.aur,
            &self.aur.client_key(),
            &self.known_hosts(),
        );
        for name in ONLY {
            command.args(["--only", name]);
        }
        command.args(extra).env("RUST_LOG", "info");
    }

    fn sync(&self, extra: &[&str]) -> Output {
        self.sync_command(extra).output().expect("raku-aur runs")
    }

    fn sync_from(&self, sources: &Sources, extra: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        self.add_sync_args(&mut command, sources, extra);
        command.output().expect("raku-aur runs")
    }

    /// What the server holds, per repository that has a `master`.
    fn remote_state(&self) -> RemoteState {
        self.aur
            .repo_names()
            .into_iter()
            .filter_map(|pkgbase| {
                let repo = self.aur.bare_repo(&pkgbase);
                if git(&repo, &["branch", "--list", "master"]).is_empty() {
                    return None;
                }
                let log = git(
                    &repo,
                    &["log", "--reverse", "--format=%T%x00%B%x00", "master"],
                );
                let fields: Vec<&str> = log.split('\0').collect();
                let history = fields
                    .chunks_exact(2)
                    .map(|c| (c[0].trim().to_string(), c[1].trim().to_string()))
                    .collect();
                Some((pkgbase, history))
            })
            .collect()
    }

    /// Whether `commit` is in the history of `pkgbase`'s `master` on the server.
    fn server_has(&self, pkgbase: &str, commit: &str) -> bool {
        let repo = self.aur.bare_repo(pkgbase);
        repo.exists()
            && Command::new("git")
                .args(["-c", "safe.directory=*", "--git-dir"])
                .arg(&repo)
                .args(["merge-base", "--is-ancestor", commit, "master"])
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", "/nonexistent")
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap()
                .success()
    }

    /// Each repository's `master` commit id.
    fn remote_tips(&self) -> BTreeMap<String, String> {
        self.remote_state()
            .into_keys()
            .map(|pkgbase| {
                let tip = git(&self.aur.bare_repo(&pkgbase), &["rev-parse", "master"]);
                (pkgbase, tip.trim().to_string())
            })
            .collect()
    }

    /// pkgbase → status, from report.json.
    fn statuses(&self) -> BTreeMap<String, String> {
        self.report()["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["pkgbase"].as_str().unwrap().to_string(),
                    p["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// published.json as pkgbase → recorded commit; empty when there is none yet. Panics
    /// when it does not parse: a corrupt state file is a failure in itself.
    fn published(&self) -> BTreeMap<String, String> {
        let path = self.path("state/published.json");
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeMap::new(),
            Err(e) => panic!("read {}: {e}", path.display()),
        };
        let json: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{} is corrupt: {e}", path.display()));
        json["packages"]
            .as_object()
            .unwrap_or_else(|| panic!("{} has no packages: {json}", path.display()))
            .iter()
            .map(|(k, v)| (k.clone(), v["commit"].as_str().unwrap().to_string()))
            .collect()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The version 2 of the ecosystem: JSON::OptIn and CBOR::Simple release new versions, and
/// JSON::Name's description changes (a packaging-only change, pkgrel 2).
fn sample_v2(world: &World) -> Vec<Value> {
    let mut entries = sample();
    for (name, version) in [("JSON::OptIn", "0.0.3"), ("CBOR::Simple", "0.1.5")] {
        let entry = entries.iter_mut().find(|e| e["name"] == name).unwrap();
        let old = entry["version"].as_str().unwrap().to_string();
        let dist = entry["dist"].as_str().unwrap().replace(&old, version);
        let url = entry["source-url"]
            .as_str()
            .unwrap()
            .replace(&format!("%3C{old}%3E"), &format!("%3C{version}%3E"));
        assert_ne!(url, entry["source-url"].as_str().unwrap(), "{name}");
        entry["version"] = json!(version);
        entry["dist"] = json!(dist);
        entry["source-url"] = json!(url);
        world.add_archive(entry);
    }
    let name = entries
        .iter_mut()
        .find(|e| e["name"] == "JSON::Name")
        .unwrap();
    name["description"] = json!("Provide a name for a JSON attribute, now better described");
    entries
}

/// A copy of everything a sync reads and writes besides its input: the server's
/// repositories, the state directory and the cache.
struct Snapshot {
    dir: tempfile::TempDir,
}

impl Snapshot {
    fn take(world: &World) -> Snapshot {
        let dir = tempfile::tempdir().unwrap();
        world.aur.save(&dir.path().join("server"));
        for local in ["state", "cache"] {
            if world.path(local).exists() {
                copy_tree(&world.path(local), &dir.path().join(local));
            }
        }
        Snapshot { dir }
    }

    fn restore(&self, world: &World) {
        world.aur.restore(&self.dir.path().join("server"));
        for local in ["state", "cache"] {
            let live = world.path(local);
            if live.exists() {
                std::fs::remove_dir_all(&live).unwrap();
            }
            let saved = self.dir.path().join(local);
            if saved.exists() {
                copy_tree(&saved, &live);
            }
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(out.status.success(), "cp -a: {}", stderr(&out));
}

/// splitmix64: a few lines, seedable, good enough to spread kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Kill trials per scenario: 14, or `RAKU_AUR_KILL_TRIALS` to hunt for rarer failures.
fn trials() -> usize {
    std::env::var("RAKU_AUR_KILL_TRIALS").map_or(14, |n| {
        n.parse()
            .expect("RAKU_AUR_KILL_TRIALS is a number of trials")
    })
}

/// `RAKU_AUR_FAULTS_SEED` to replay a failure, otherwise a new seed each run.
fn seed(salt: u64) -> u64 {
    match std::env::var("RAKU_AUR_FAULTS_SEED") {
        Ok(s) => s.parse().expect("RAKU_AUR_FAULTS_SEED is a number"),
        Err(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            (now.as_nanos() as u64) ^ salt
        }
    }
}

/// The keywords each package has on the server: the last `set-keywords` for it wins.
fn keywords(world: &World) -> BTreeMap<String, String> {
    world
        .aur
        .keywords_log()
        .lines()
        .map(|l| {
            let (pkgbase, words) = l.split_once(' ').unwrap_or((l, ""));
            (pkgbase.to_string(), words.to_string())
        })
        .collect()
}

/// Files in the state directory that no finished run leaves there: temporary files, and
/// keyword marks (every package has its keywords by then). The cache directory may be shared
/// by concurrent runs, so a temporary file there is not sync's to remove, and not checked.
fn leftovers(world: &World) -> Vec<String> {
    let expected = [
        "lock",
        "published.json",
        "report.json",
        "repos",
        "keywords-pending",
    ];
    let mut found = Vec::new();
    for dir in ["state", "state/keywords-pending"] {
        let Ok(entries) = std::fs::read_dir(world.path(dir)) else {
            continue;
        };
        for entry in entries {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if dir != "state" || !expected.contains(&name.as_str()) {
                found.push(format!("{dir}/{name}"));
            }
        }
    }
    found.sort();
    found
}

/// What an undisturbed run from `pre` leaves on the server.
struct Reference {
    state: RemoteState,
    keywords: BTreeMap<String, String>,
    duration: Duration,
}

impl Reference {
    fn from(world: &World, pre: &Snapshot) -> Reference {
        pre.restore(world);
        let started = Instant::now();
        let out = world.sync(&[]);
        let duration = started.elapsed();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        Reference {
            state: world.remote_state(),
            keywords: keywords(world),
            duration,
        }
    }

    /// Checks that `world` holds what the undisturbed run published, that published.json
    /// records exactly the server's tips, and that a further run does nothing.
    fn assert_reached(&self, world: &World, case: &str) {
        assert_eq!(
            world.remote_state(),
            self.state,
            "{case}: the server differs from an undisturbed run"
        );
        assert_eq!(
            keywords(world),
            self.keywords,
            "{case}: the keywords differ from an undisturbed run"
        );
        let tips = world.remote_tips();
        assert_eq!(
            world.published(),
            tips,
            "{case}: published.json does not match the server"
        );
        assert_eq!(
            leftovers(world),
            Vec::<String>::new(),
            "{case}: files left behind"
        );
        let again = world.sync(&[]);
        assert_eq!(again.status.code(), Some(0), "{case}: {}", stderr(&again));
        assert!(
            world.statuses().values().all(|s| s == "unchanged"),
            "{case}: a further run did something: {:?}",
            world.statuses()
        );
        assert_eq!(world.remote_tips(), tips, "{case}: a further run pushed");
    }
}

/// Starting from `pre` each time, kills sync after a random delay, then checks that the next
/// run converges to what an undisturbed run publishes and leaves consistent state.
fn kill_trials(world: &World, pre: &Snapshot, trials: usize, salt: u64) {
    let reference = Reference::from(world, pre);
    let duration = reference.duration;

    let seed = seed(salt);
    println!(
        "kill trials: seed {seed} (RAKU_AUR_FAULTS_SEED={seed} replays the delays), \
         undisturbed run {duration:?}"
    );
    let mut rng = Rng(seed);
    for trial in 0..trials {
        let delay = duration.mul_f64(rng.fraction());
        println!("trial {trial}: kill after {delay:?}");
        pre.restore(world);
        let mut child = world
            .sync_command(&[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // SIGKILL; an error means it had already exited.
        let _ = child.kill();
        match child.wait().unwrap() {
            status if status.success() => println!("trial {trial}: it had finished already"),
            status => println!("trial {trial}: {status}"),
        }
        let case = format!("trial {trial} (kill after {delay:?})");
        // Whatever the moment, the state files are whole (`published` panics on a corrupt
        // one), and what is recorded was confirmed: it is on the server (maybe no longer its
        // tip, when a later push landed unconfirmed).
        let published = world.published();
        for (pkgbase, commit) in &published {
            assert!(
                world.server_has(pkgbase, commit),
                "{case}: published.json records {pkgbase} at {commit}, which the server lacks"
            );
        }
        // Pushes that landed without being recorded: the next run must not push them again.
        let unconfirmed: Vec<String> = world
            .remote_tips()
            .into_iter()
            .filter(|(pkgbase, tip)| published.get(pkgbase) != Some(tip))
            .map(|(pkgbase, _)| pkgbase)
            .collect();
        println!("trial {trial}: landed but not recorded: {unconfirmed:?}");
        if let Ok(bytes) = std::fs::read(world.path("cache/tarballs.json")) {
            let parsed: Result<Value, _> = serde_json::from_slice(&bytes);
            assert!(parsed.is_ok(), "{case}: the tarball cache is corrupt");
        }
        let out = world.sync(&[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{case}: the next run failed:\n{}",
            stderr(&out)
        );
        reference.assert_reached(world, &case);
    }
}

#[test]
fn killed_during_a_first_publication_the_next_run_converges() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    let pre = Snapshot::take(&world);
    kill_trials(&world, &pre, trials(), 1);
}

#[test]
fn killed_during_an_update_the_next_run_converges() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    world.set_index(&sample_v2(&world));
    let pre = Snapshot::take(&world);
    kill_trials(&world, &pre, trials(), 2);
}

/// What stderr must say for each HTTP fault.
fn symptom(fault: Fault) -> &'static str {
    match fault {
        Fault::Status(500) => "HTTP 500",
        Fault::Hang => "timed out",
        Fault::Truncated => "broke off",
        Fault::Status(_) => unreachable!("only 500 is served here"),
    }
}

const HTTP_FAULTS: [Fault; 3] = [Fault::Status(500), Fault::Hang, Fault::Truncated];

#[test]
fn an_index_or_aur_metadata_server_that_fails_stops_the_run_before_any_push() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    let sources = world.served();
    for (file, what) in [("aur.json", "AUR metadata"), ("index.json", "index")] {
        for fault in HTTP_FAULTS {
            world.http.set_fault(file, fault);
            let out = world.sync_from(&sources, &["--http-timeout", "1"]);
            world.http.clear_fault(file);
            let err = stderr(&out);
            let case = format!("{file}, {fault:?}");
            assert_eq!(out.status.code(), Some(2), "{case}: {err}");
            let last = err.lines().last().unwrap_or_default();
            let url = format!("{}{file}", world.http.base_url());
            for needed in [what, &url, symptom(fault), "tried 3 times"] {
                assert!(
                    last.starts_with("raku-aur: ") && last.contains(needed),
                    "{case}: the error does not say {needed:?}: {err}"
                );
            }
            // Not even a fetch: the server has no repository at all.
            assert_eq!(world.aur.repo_names(), Vec::<String>::new(), "{case}");
            assert!(world.published().is_empty(), "{case}");
        }
    }
    // The same sources, served well, publish everything.
    let out = world.sync_from(&sources, &["--http-timeout", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(world.remote_state().len(), 7);
}

#[test]
fn a_tarball_that_fails_holds_its_package_and_dependents_and_the_rest_is_pushed() {
    let entries = sample();
    let world = World::new(&entries, &aur_metadata(&[]));
    let pre = Snapshot::take(&world);
    let optin = entries.iter().find(|e| e["name"] == "JSON::OptIn").unwrap();
    let tarball = fixtures::archive_rel_path(optin, REA_ARCHIVE_PREFIX);
    // JSON::Name needs JSON::OptIn, JSON::Marshal needs both.
    let held = ["raku-json-marshal", "raku-json-name", "raku-json-optin"];
    let reference = {
        let out = world.sync(&[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        world.remote_state()
    };
    for fault in HTTP_FAULTS {
        pre.restore(&world);
        world.http.set_fault(&tarball, fault);
        let out = world.sync(&["--http-timeout", "1"]);
        world.http.clear_fault(&tarball);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{fault:?}: {err}");
        let warning = err
            .lines()
            .find(|l| l.contains("WARN") && l.contains("JSON%3A%3AOptIn"))
            .unwrap_or_else(|| panic!("{fault:?}: no warning names the tarball: {err}"));
        assert!(
            warning.contains(symptom(fault)) && warning.contains("held back"),
            "{fault:?}: {warning}"
        );
        // The held ones are not on the server; every other package is exactly as an
        // undisturbed run publishes it.
        let during = world.remote_state();
        let mut expected = reference.clone();
        expected.retain(|pkgbase, _| !held.contains(&pkgbase.as_str()));
        assert_eq!(during, expected, "{fault:?}");
        let report = world.report().to_string();
        for dist in ["JSON::OptIn", "JSON::Name", "JSON::Marshal"] {
            assert!(
                report.contains(&format!("\"dist\":\"{dist}:")),
                "{fault:?}: {dist} is not held: {report}"
            );
        }
        assert_eq!(world.published(), world.remote_tips(), "{fault:?}");
        // Served again, the tarball brings the rest.
        let out = world.sync(&["--http-timeout", "1"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(world.remote_state(), reference, "{fault:?}");
        assert_eq!(world.published(), world.remote_tips(), "{fault:?}");
    }
}

#[test]
fn the_ssh_server_going_away_mid_run_fails_the_rest_and_the_next_run_catches_up() {
    let mut world = World::new(&sample(), &aur_metadata(&[]));
    let pre = Snapshot::take(&world);
    let reference = Reference::from(&world, &pre);
    pre.restore(&world);

    let mut child = world
        .sync_command(&[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the server as soon as the first package has landed on it.
    loop {
        let landed = world
            .aur
            .repo_names()
            .iter()
            .any(|p| world.aur.bare_repo(p).join("refs/heads/master").exists());
        if landed || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    world.aur.stop();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");

    // What landed is recorded and reported as pushed; nothing else is.
    let tips = world.remote_tips();
    assert!(!tips.is_empty() && tips.len() < 7, "{tips:?}\n{err}");
    assert_eq!(world.published(), tips, "{err}");
    let report = world.report();
    for p in report["packages"].as_array().unwrap() {
        let pkgbase = p["pkgbase"].as_str().unwrap();
        let status = p["status"].as_str().unwrap();
        if tips.contains_key(pkgbase) {
            assert_eq!(status, "pushed", "{p}");
            assert_eq!(
                reference.state[pkgbase],
                world.remote_state()[pkgbase],
                "{pkgbase}"
            );
        } else {
            assert!(status == "failed" || status == "waiting", "{p}");
        }
    }
    assert!(
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["status"] == "failed"
                && p["detail"]
                    .as_str()
                    .unwrap()
                    .contains("cannot reach the server")),
        "{report:#}"
    );

    world.aur.restart();
    let out = world.sync(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    reference.assert_reached(&world, "after the server came back");
}

/// Runs `raku-aur sync` twice in a private user and mount namespace, with the state directory
/// on a tmpfs: first mounted with the options in `$3` (too small to finish), then remounted
/// with room to spare. Each run's stderr, exit status and state directory are copied to
/// `$2` as `<run>.err`, `<run>.rc` and `<run>-state/`.
const FULL_DISK_SCRIPT: &str = r#"
state=$1 out=$2 options=$3
shift 3
mount -t tmpfs -o "$options" tmpfs "$state"
for run in full roomy; do
    rc=0
    "$@" 2>"$out/$run.err" >/dev/null || rc=$?
    echo "$rc" >"$out/$run.rc"
    cp -a "$state/." "$out/$run-state/"
    # The long form: the short one makes mount(8) repeat the options it reads back, and as
    # an ordinary user those include a uid the namespace does not map.
    mount -t tmpfs -o remount,size=64m,nr_inodes=100000 tmpfs "$state"
done
"#;

#[test]
fn a_full_disk_under_the_state_directory_is_a_clear_error_and_nothing_wrong_is_pushed() {
    let world = World::new(&sample(), &aur_metadata(&[]));
    let pre = Snapshot::take(&world);
    let reference = Reference::from(&world, &pre);
    let state = world.path("state");
    // The undisturbed run needs about 700 kB and 260 inodes. Out of room before the first
    // clone, halfway through; out of inodes (each file a new chance to fail) while updating a
    // ref, writing published.json after a push, and writing an object.
    for size in [
        "size=16k",
        "size=300k",
        "nr_inodes=38",
        "nr_inodes=41",
        "nr_inodes=68",
    ] {
        pre.restore(&world);
        std::fs::create_dir_all(&state).unwrap();
        let out_dir = world.path(&format!("full-disk-{size}"));
        for run in ["full", "roomy"] {
            std::fs::create_dir_all(out_dir.join(format!("{run}-state"))).unwrap();
        }
        let mut command = Command::new("unshare");
        command
            .args(["-rm", "sh", "-euc", FULL_DISK_SCRIPT, "sh"])
            .arg(&state)
            .arg(&out_dir)
            .arg(size)
            .arg(env!("CARGO_BIN_EXE_raku-aur"));
        world.add_sync_args(&mut command, &world.files(), &[]);
        let out = command
            .output()
            .expect("unshare (util-linux) must be installed for this test");
        assert!(
            out.status.success(),
            "this test needs a user and mount namespace (unshare -rm) to put the state \
             directory on a small tmpfs, and that failed ({}): {}",
            out.status,
            stderr(&out)
        );
        let read = |name: &str| std::fs::read_to_string(out_dir.join(name)).unwrap();
        let case = format!("a tmpfs with {size}");

        // The run out of room fails, and says why and where.
        let err = read("full.err");
        let rc = read("full.rc");
        assert_ne!(
            rc.trim(),
            "0",
            "{case}: the run did not run out of room:\n{err}"
        );
        assert!(
            err.lines()
                .any(|l| l.contains("No space left on device")
                    && l.contains(state.to_str().unwrap())),
            "{case}: no error names the full disk and the path:\n{err}"
        );
        // Whatever it pushed is exactly what an undisturbed run pushes, and what it recorded
        // is on the server.
        let tips = world.remote_tips();
        for (pkgbase, history) in world.remote_state() {
            assert_eq!(
                Some(&history),
                reference.state.get(&pkgbase),
                "{case}: {pkgbase} differs from an undisturbed run"
            );
        }
        copy_tree(&out_dir.join("full-state/."), &state);
        for (pkgbase, commit) in world.published() {
            assert_eq!(
                tips.get(&pkgbase),
                Some(&commit),
                "{case}: published.json records {pkgbase} at a commit the server does not have"
            );
        }

        // With room again, the next run finishes the job.
        let err = read("roomy.err");
        assert_eq!(read("roomy.rc").trim(), "0", "{case}: {err}");
        std::fs::remove_dir_all(&state).unwrap();
        copy_tree(&out_dir.join("roomy-state"), &state);
        reference.assert_reached(&world, &case);
    }
}
