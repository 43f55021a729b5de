//! A real AUR helper, pikaur, installs what the bot publishes, as an Arch user would run it.
//!
//! The bot syncs the fixture ecosystem (`tests/fixtures/ecosystem/`) to the local AUR (sshd);
//! the AUR's web front ([`common::aur_front`]) serves the RPC and git over HTTP from the same
//! repositories; pikaur, pointed at that front, resolves, clones, builds with makepkg (checks
//! included) and installs into a scratch pacman root. Arch's own packages the fixtures need
//! (rakudo, perl, zlib) are stubs in a local sync repository; see [`common::arch`].
//!
//! What pikaur needs here, found when it was first tried by hand: as root, `--user-id` of a
//! build user (it then runs git and makepkg through `sudo`); makepkg's dependency check runs
//! `$PACMAN -T`, so a wrapper carrying the scratch `pacman.conf` goes through sudo's
//! `--preserve-env`; at least one sync repository (with none, pacman's "no usable package
//! repositories configured" is misread); `RootDir`, `DBPath`, `CacheDir`, `LogFile`, `GPGDir`
//! and `HookDir` set in that `pacman.conf`, since pikaur reads it with pyalpm; and `-Sua`,
//! not `-Syu`, which would fetch the Arch news feed and retry forever without a network.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::common;
use common::arch::{self, run, text};
use common::aur_front::AurFront;
use common::fixtures::{fixture_metas, index_entry, write_fixture_archive};
use common::http::TestServer;
use common::sshd::{self, AurServer};
use serde_json::{Value, json};

/// Where `.ci/install-pikaur` puts pikaur, relative to the crate; `RAKU_AUR_PIKAUR` overrides.
const PIKAUR_IN_CRATE: &str = "target/pikaur-venv/bin/pikaur";

/// The pikaur to run; panics, saying what to install, when it is missing.
fn pikaur() -> PathBuf {
    let path = std::env::var_os("RAKU_AUR_PIKAUR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(PIKAUR_IN_CRATE),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "pikaur is missing at {}: run `bash .ci/install-pikaur` (after `apt-get install \
         libalpm-dev libarchive-dev libcurl4-openssl-dev libgpgme-dev pkg-config sudo \
         python3-venv python3-dev`), or set RAKU_AUR_PIKAUR to a pikaur executable",
        path.display()
    );
    for program in ["/usr/bin/sudo", "/usr/bin/makepkg", "/usr/bin/pacman"] {
        assert!(
            Path::new(program).is_file(),
            "{program} is missing: pikaur needs it (apt-get install sudo makepkg \
             pacman-package-manager)"
        );
    }
    assert!(
        arch::as_root(),
        "the AUR helper tests run as root, as CI does: pikaur installs with pacman, which \
         needs root, and builds as an unprivileged user through sudo"
    );
    path
}

/// The bot, the local AUR and its web front, and an Arch-like root that pikaur installs into.
struct World {
    dir: tempfile::TempDir,
    http: TestServer,
    aur: AurServer,
    front: AurFront,
    pikaur: PathBuf,
    build_ids: (u32, u32),
}

impl World {
    /// Packs and serves the archives of `releases` (index entries, each with its fixture's
    /// directory), starts the local AUR and its front, and sets up a scratch root with a sync
    /// repository holding `stubs`. The index is left to [`Self::set_index`].
    fn new(releases: &[(PathBuf, Value)], stubs: &[(&str, &str)]) -> World {
        let pikaur = pikaur();
        // The build user must reach everything: /tmp, not $TMPDIR.
        let dir = tempfile::Builder::new()
            .prefix("raku-aur-helper-")
            .tempdir_in("/tmp")
            .expect("create the test directory");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let archive = dir.path().join("archive");
        for (source, entry) in releases {
            write_fixture_archive(source, entry, &archive);
        }
        let http = TestServer::serve_dir(&archive);
        let aur = sshd::start();
        let front = AurFront::start(&aur);
        let build_ids = arch::build_ids().expect("running as root");
        let world = World {
            dir,
            http,
            aur,
            front,
            pikaur,
            build_ids,
        };
        fs::write(
            world.path("known_hosts"),
            format!("{}\n", world.aur.known_hosts_line()),
        )
        .unwrap();
        world.write_aur_metadata();
        world.arch_stand_in(stubs);
        world
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn root(&self) -> PathBuf {
        self.path("root")
    }

    fn set_index<'a>(&self, entries: impl Iterator<Item = &'a Value>) {
        let entries: Vec<&Value> = entries.collect();
        fs::write(
            self.path("index.json"),
            serde_json::to_vec(&entries).unwrap(),
        )
        .unwrap();
    }

    /// The AUR's bulk metadata as the bot reads it: the AUR's rakudo, and whatever the local
    /// AUR holds now, in the RPC's `info` format (as the real file is).
    fn write_aur_metadata(&self) {
        let ours = self.rpc(&format!(
            "/rpc/?v=5&type=search&by=maintainer&arg={}",
            sshd::BOT_ACCOUNT
        ));
        let names: Vec<String> = ours["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("&arg[]={}", r["Name"].as_str().unwrap()))
            .collect();
        let mut packages = vec![json!({
            "Name": "rakudo", "PackageBase": "rakudo", "Version": "2026.04-1",
            "Maintainer": "someone", "Provides": ["perl6"]
        })];
        if !names.is_empty() {
            let info = self.rpc(&format!("/rpc/?v=5&type=info{}", names.concat()));
            packages.extend(info["results"].as_array().unwrap().iter().cloned());
        }
        fs::write(
            self.path("aur.json"),
            serde_json::to_vec(&packages).unwrap(),
        )
        .unwrap();
    }

    /// A GET of the front's RPC, as JSON.
    fn rpc(&self, target: &str) -> Value {
        let output = run(Command::new("curl")
            .args(["-fsS", "--globoff"])
            .arg(format!("{}{target}", self.front.url())));
        serde_json::from_slice(&output.stdout).expect("the RPC answers JSON")
    }

    /// `raku-aur sync` of the current index to the local AUR; every package must be pushed
    /// or unchanged. The AUR's metadata then lists what it holds.
    fn sync(&self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        common::sync_cmd::add_sync_args(
            &mut command,
            self.dir.path(),
            &self.http,
            &self.aur,
            &self.aur.client_key(),
            &self.path("known_hosts"),
        );
        let synced = command.output().expect("raku-aur runs");
        assert_eq!(synced.status.code(), Some(0), "{}", text(&synced));
        self.write_aur_metadata();
    }

    /// The status and detail `sync` reported for `pkgbase`.
    fn report(&self, pkgbase: &str) -> (String, String) {
        let report = common::world::read_report(&self.path("state"));
        common::world::report_status(&report, pkgbase)
    }

    /// The scratch root, its `pacman.conf` (with one local sync repository of `stubs`), the
    /// pacman wrapper makepkg checks dependencies with, the rakudo home, and pikaur's config.
    fn arch_stand_in(&self, stubs: &[(&str, &str)]) {
        for d in [
            "bin", "home", "cache", "data", "config", "tmp", "repo", "stubs",
        ] {
            fs::create_dir(self.path(d)).unwrap();
        }
        let root = self.root();
        for d in [
            "var/lib/pacman",
            "var/cache/pacman/pkg",
            "var/log",
            "etc/pacman.d/hooks",
        ] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        let conf = self.path("pacman.conf");
        fs::write(
            &conf,
            format!(
                "[options]\nRootDir = {root}\nDBPath = {root}/var/lib/pacman/\n\
                 CacheDir = {root}/var/cache/pacman/pkg/\nLogFile = {root}/var/log/pacman.log\n\
                 GPGDir = {root}/etc/pacman.d/gnupg/\nHookDir = {root}/etc/pacman.d/hooks/\n\
                 Architecture = auto\nSigLevel = Never\n\n[stand-ins]\nServer = file://{repo}\n",
                root = root.display(),
                repo = self.path("repo").display()
            ),
        )
        .unwrap();
        let bin = self.path("bin");
        arch::write_install_dist(&bin);
        arch::write_script(
            &bin.join("pacman-root"),
            &format!("exec pacman --config {} \"$@\"", conf.display()),
        );
        arch::write_mirror_makepkg_conf(&bin, &self.path("makepkg.conf"), &self.http);
        arch::rakudo_home(&self.path("rakudo-home"), &root);
        for d in ["home", "cache", "data", "config", "tmp", "repo", "stubs"] {
            arch::give(&self.path(d), Some(self.build_ids));
        }
        let dir = arch::write_stubs(&self.path("stubs"), stubs, Some(self.build_ids));
        let pkgdest = format!("PKGDEST={}", self.path("repo").display());
        let built = self
            .as_build_user("makepkg", &[pkgdest])
            .args(["--noconfirm", "--noprogressbar"])
            .current_dir(&dir)
            .output()
            .expect("start makepkg");
        assert!(built.status.success(), "stubs:\n{}", text(&built));
        let packages: Vec<PathBuf> = fs::read_dir(self.path("repo"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        run(Command::new("repo-add")
            .arg("-q")
            .arg(self.path("repo/stand-ins.db.tar.gz"))
            .args(&packages));
        run(Command::new("pacman")
            .arg("--config")
            .arg(&conf)
            .args(["-Sy", "--noconfirm"]));
        // Nothing of the machine's: the AUR is the front (the news feed is never read with
        // -Sua; pointing it there keeps any request local), GnuPG is the root's.
        fs::write(
            self.path("pikaur.conf"),
            format!(
                "[network]\nAurUrl = {front}\nNewsUrl = {front}/feeds/news/\n\n\
                 [misc]\nUserId = {uid}\nPreserveEnv = {preserve}\n\n\
                 [build]\nGpgDir = {root}/etc/pacman.d/gnupg/\n\n\
                 [review]\nNoEdit = yes\nNoDiff = yes\n\n[ui]\nRequireEnterConfirm = no\n",
                front = self.front.url(),
                root = root.display(),
                uid = self.build_ids.0,
                preserve = PRESERVED.join(","),
            ),
        )
        .unwrap();
    }

    /// The environment pikaur, makepkg and rakudo run with: [`PRESERVED`], set.
    fn env(&self) -> Vec<(&'static str, String)> {
        let path = |name: &str| self.path(name).display().to_string();
        vec![
            (
                "PATH",
                format!("{}:/usr/bin:/bin:/usr/sbin:/sbin", path("bin")),
            ),
            ("HOME", path("home")),
            ("TMPDIR", path("tmp")),
            ("LC_ALL", "C.UTF-8".to_string()),
            ("PACMAN", path("bin/pacman-root")),
            ("MAKEPKG_CONF", path("makepkg.conf")),
            ("RAKUDO_HOME", path("rakudo-home")),
        ]
    }

    /// `program` as the build user, with [`Self::env`] and `extra` (`NAME=value`).
    fn as_build_user(&self, program: &str, extra: &[String]) -> Command {
        let mut env: Vec<String> = self.env().iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.extend_from_slice(extra);
        arch::as_user(Some(self.build_ids), &env, program)
    }

    /// `pikaur ARGS...` as root for the build user, as the pitfalls above require.
    fn pikaur(&self, args: &[&str]) -> Output {
        let started = Instant::now();
        let output = Command::new(&self.pikaur)
            .env_clear()
            .envs(self.env())
            .arg(format!(
                "--pikaur-config={}",
                self.path("pikaur.conf").display()
            ))
            .arg(format!("--config={}", self.path("pacman.conf").display()))
            .arg(format!(
                "--makepkg-config={}",
                self.path("makepkg.conf").display()
            ))
            .arg(format!("--user-id={}", self.build_ids.0))
            .arg(format!("--home-dir={}", self.path("home").display()))
            .arg(format!("--xdg-cache-home={}", self.path("cache").display()))
            .arg(format!("--xdg-data-home={}", self.path("data").display()))
            .arg(format!(
                "--xdg-config-home={}",
                self.path("config").display()
            ))
            .args(["--noconfirm"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("start pikaur");
        eprintln!("pikaur {args:?}: {:?}", started.elapsed());
        output
    }

    /// Our installed packages whose version on the local AUR differs from the installed
    /// one, as pacman logs an upgrade: `NAME (INSTALLED -> PUBLISHED)`, sorted.
    fn outdated(&self) -> Vec<String> {
        let installed: Vec<(String, String)> = self
            .query(&[])
            .into_iter()
            .filter(|line| line.starts_with("raku-"))
            .map(|line| {
                let (name, version) = line.split_once(' ').expect("NAME VERSION");
                (name.to_string(), version.to_string())
            })
            .collect();
        let args: String = installed
            .iter()
            .map(|(n, _)| format!("&arg[]={n}"))
            .collect();
        let info = self.rpc(&format!("/rpc/?v=5&type=info{args}"));
        let published = info["results"].as_array().expect("results");
        assert_eq!(published.len(), installed.len(), "{info}");
        installed
            .iter()
            .zip(published)
            .filter(|((_, version), record)| record["Version"] != version.as_str())
            .map(|((name, version), record)| {
                assert_eq!(record["Name"], name.as_str());
                format!(
                    "{name} ({version} -> {})",
                    record["Version"].as_str().unwrap()
                )
            })
            .collect()
    }

    /// `pikaur -Sua` succeeds and upgrades what is [`Self::outdated`], and nothing else.
    fn sysupgrade_upgrades(&self, outdated: &[String]) {
        let before = self.log_lines();
        let upgraded = self.pikaur(&["-Sua"]);
        assert!(
            upgraded.status.success(),
            "pikaur -Sua:\n{}",
            text(&upgraded)
        );
        let upgraded_names: Vec<&str> = outdated
            .iter()
            .map(|o| o.split(' ').next().expect("a name"))
            .collect();
        // A package that another one of the upgrade needs to build is installed as soon as it
        // is built, then once more with the rest: that second time is a reinstall.
        let mut done: Vec<String> = self
            .transactions(before)
            .into_iter()
            .filter(|t| {
                t.strip_prefix("reinstalled ")
                    .and_then(|rest| rest.split(' ').next())
                    .is_none_or(|name| !upgraded_names.contains(&name))
            })
            .collect();
        done.sort();
        let expected: Vec<String> = outdated.iter().map(|o| format!("upgraded {o}")).collect();
        assert_eq!(done, expected, "{}", text(&upgraded));
        assert_eq!(self.outdated(), Vec::<String>::new());
    }

    /// `pacman -Q ARGS...` on the scratch root, one line per package.
    fn query(&self, args: &[&str]) -> BTreeSet<String> {
        let listed = run(Command::new("pacman")
            .arg(format!("--config={}", self.path("pacman.conf").display()))
            .arg("-Q")
            .args(args));
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// What pacman's log says happened to packages after its first `skip` lines:
    /// `installed|upgraded|removed NAME (VERSIONS)`, in order.
    fn transactions(&self, skip: usize) -> Vec<String> {
        let log = fs::read_to_string(self.root().join("var/log/pacman.log")).unwrap_or_default();
        log.lines()
            .skip(skip)
            .filter_map(|l| l.split_once("[ALPM] ").map(|(_, rest)| rest))
            .filter(|l| {
                [
                    "installed ",
                    "upgraded ",
                    "downgraded ",
                    "removed ",
                    "reinstalled ",
                ]
                .iter()
                .any(|action| l.starts_with(action))
            })
            .map(str::to_string)
            .collect()
    }

    fn log_lines(&self) -> usize {
        fs::read_to_string(self.root().join("var/log/pacman.log"))
            .map(|l| l.lines().count())
            .unwrap_or(0)
    }
}

/// What sudo keeps for makepkg and git: our PATH (perl6-install-dist), a HOME and TMPDIR of
/// the build user's, `PACMAN` for makepkg's dependency check, `MAKEPKG_CONF` for the
/// DLAGENT, and the rakudo home whose vendor repository is the scratch root's.
const PRESERVED: [&str; 7] = [
    "PATH",
    "HOME",
    "TMPDIR",
    "LC_ALL",
    "PACMAN",
    "MAKEPKG_CONF",
    "RAKUDO_HOME",
];

fn fixture(name: &str) -> (PathBuf, Value) {
    fixture_metas()
        .into_iter()
        .find(|(_, meta)| meta["name"] == name)
        .map(|(dir, meta)| (dir, index_entry(&meta)))
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

fn release(fixture: &(PathBuf, Value), version: &str) -> (PathBuf, Value) {
    let mut entry = fixture.1.clone();
    entry["version"] = json!(version);
    (fixture.0.clone(), index_entry(&entry))
}

const CHAIN: [&str; 5] = [
    "Fixture::Base",
    "Fixture::Resources",
    "Fixture::Middle",
    "Fixture::Native",
    "Fixture::Top",
];

#[test]
fn pikaur_installs_the_chain_then_upgrades_exactly_what_the_bot_updated() {
    let started = Instant::now();
    let chain: Vec<(PathBuf, Value)> = CHAIN.iter().map(|name| fixture(name)).collect();
    let base = chain[0].clone();
    let base_next = release(&base, "0.1.1");
    let mut every_release = chain.clone();
    every_release.push(base_next.clone());
    let world = World::new(&every_release, &arch::STUBS);
    world.set_index(chain.iter().map(|(_, e)| e));
    world.sync();
    eprintln!("synced: {:?}", started.elapsed());

    let installed = world.pikaur(&["-S", "raku-fixture-top"]);
    let log = text(&installed);
    assert!(installed.status.success(), "pikaur -S:\n{log}");
    // Every package of the chain was built with its check(), which passed.
    assert_eq!(
        log.matches("Starting check()").count(),
        CHAIN.len(),
        "{log}"
    );
    assert_eq!(
        log.matches("All tests successful").count(),
        CHAIN.len(),
        "{log}"
    );
    assert_eq!(
        world.query(&["-qe"]),
        BTreeSet::from(["raku-fixture-top".to_string()])
    );
    // perl came for the checks; pikaur 1.20 leaves a check dependency installed.
    assert_eq!(
        world.query(&["-qd"]),
        [
            "perl",
            "raku-fixture-base",
            "raku-fixture-middle",
            "raku-fixture-native",
            "raku-fixture-resources",
            "rakudo",
            "zlib"
        ]
        .map(String::from)
        .into()
    );
    // It found the packages through the RPC and cloned them over HTTP.
    let requests = world.front.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /rpc/?v=5&type=info") && r.ends_with(" 200")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("POST /raku-fixture-base.git/git-upload-pack")),
        "{requests:?}"
    );

    // The modules load from the root's vendor repository, and the script runs.
    let raku = |args: &[&str]| {
        let output = run(world.as_build_user("raku", &[]).args(args).current_dir("/"));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let loaded = raku(&["-e", "use Fixture::Top; say top-words()"]);
    assert!(
        loaded.starts_with("base+middle (hello from a resource)+top, zlib 1."),
        "{loaded}"
    );
    let link = fs::read_link(world.root().join("usr/bin/fixture-top")).expect("the script link");
    let script = world.root().join(link.strip_prefix("/").unwrap());
    assert_eq!(raku(&[&script.to_string_lossy()]), loaded);
    eprintln!("installed: {:?}", started.elapsed());

    // Upstream releases Fixture::Base 0.1.1: the bot publishes it, and a sysupgrade of AUR
    // packages builds and upgrades that package and nothing else.
    let mut index: Vec<(PathBuf, Value)> = chain.clone();
    index[0] = base_next;
    world.set_index(index.iter().map(|(_, e)| e));
    world.sync();
    assert_eq!(world.report("raku-fixture-base").0, "pushed");
    assert_eq!(world.report("raku-fixture-middle").0, "unchanged");
    let outdated = world.outdated();
    assert_eq!(outdated.len(), 1, "{outdated:?}");
    assert!(
        outdated[0].starts_with("raku-fixture-base ("),
        "{outdated:?}"
    );
    world.sysupgrade_upgrades(&outdated);
    eprintln!("upgraded: {:?}", started.elapsed());

    // Upstream withdraws 0.1.1: the bot publishes the older release under a new epoch, which
    // pacman sorts above 0.1.1, so the helper still offers it as an upgrade.
    world.set_index(chain.iter().map(|(_, e)| e));
    world.sync();
    let (status, detail) = world.report("raku-fixture-base");
    assert_eq!(status, "pushed", "{detail}");
    // Its dependents get a new pkgrel too: their bounds on it now carry the epoch.
    let outdated = world.outdated();
    assert!(
        outdated
            .iter()
            .any(|o| o.starts_with("raku-fixture-base (") && o.contains(" -> 1:")),
        "{outdated:?}"
    );
    world.sysupgrade_upgrades(&outdated);
    eprintln!("epoch: {:?}", started.elapsed());
}

/// zlib, which Fixture::Native links, is neither in the sync repositories nor on the AUR:
/// pikaur stops before building anything and names it.
#[test]
fn pikaur_names_a_missing_system_dependency() {
    let native = fixture("Fixture::Native");
    let stubs: Vec<(&str, &str)> = arch::STUBS
        .into_iter()
        .filter(|(name, _)| *name != "zlib")
        .collect();
    let world = World::new(std::slice::from_ref(&native), &stubs);
    world.set_index([&native.1].into_iter());
    world.sync();
    let refused = world.pikaur(&["-S", "raku-fixture-native"]);
    let log = text(&refused);
    assert!(!refused.status.success(), "{log}");
    assert!(
        log.contains("Dependencies missing for raku-fixture-native"),
        "{log}"
    );
    // Listed alone: rakudo and perl, in the sync repository, are found.
    let missing: Vec<&str> = log
        .lines()
        .skip_while(|l| !l.contains("cannot be found"))
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(missing, ["zlib"], "{log}");
    assert!(!log.contains("Making package"), "{log}");
    assert_eq!(world.transactions(0), Vec::<String>::new());
}
