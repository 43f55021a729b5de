//! What `raku-aur sync` publishes builds and installs the way an AUR helper does it.
//!
//! A small ecosystem written for this test (`tests/fixtures/ecosystem/`) is packed as REA
//! archives, served from 127.0.0.1 and published to a local AUR-like sshd. Then, from the
//! pushed repositories and as an unprivileged user, each package is built with makepkg,
//! checks included, dependencies first, after installing what it needs into a build root with
//! pacman; the results go into a local repository, and `pacman -S` installs the top package
//! into a fresh root, resolving the dependencies itself. The installed modules must load and
//! the script must run.
//!
//! Debian's rakudo stands in for Arch's (see the facts sheet, §10) without changing what the
//! PKGBUILDs say: `perl6-install-dist` is a wrapper on the build PATH; `RAKUDO_HOME` points at
//! an Arch-shaped home whose vendor repository is the build root's; `rakudo`, `perl` and
//! `zlib` are empty stub packages, so pacman's dependency checks are real; makepkg's own
//! dependency check asks pacman about the build root through `$PACMAN`; and a DLAGENT fetches
//! the PKGBUILDs' public REA URLs from the local server.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::common;
use common::arch::{self, STUBS, as_root, run, snapshot, text};
use common::fixtures::{fixture_metas, index_entry};
use common::http::TestServer;
use common::sshd::{self, AurServer};
use serde_json::{Value, json};

/// Files of the vendor repository that every installation shares; install-dist removes them
/// so that packages do not collide on them.
const SHARED_VENDOR_FILES: [&str; 3] = [
    "usr/share/perl6/vendor/version",
    "usr/share/perl6/vendor/repo.lock",
    "usr/share/perl6/vendor/precomp/.lock",
];

fn set_writable(dir: &Path, writable: bool) {
    for (path, (_, _, mode)) in snapshot(dir) {
        if mode & 0o170000 == 0o040000 {
            let mode = if writable {
                mode | 0o200
            } else {
                mode & !0o222
            };
            fs::set_permissions(&path, fs::Permissions::from_mode(mode & 0o7777))
                .expect("chmod a directory");
        }
    }
}

/// A package name from a dependency, without its version constraint.
fn dep_name(dep: &str) -> &str {
    dep.split(['<', '>', '=']).next().unwrap_or(dep)
}

fn srcinfo_values(srcinfo: &str, key: &str) -> Vec<String> {
    let prefix = format!("\t{key} = ");
    srcinfo
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
        .collect()
}

/// The AUR-like server, the archive server, and an Arch-like world to build and install in.
struct World {
    dir: tempfile::TempDir,
    http: TestServer,
    aur: AurServer,
    /// The build user's uid and gid when the tests run as root (it is then
    /// [`TEST_USER`](common::makepkg::TEST_USER));
    /// `None` when the tests run unprivileged and build as themselves.
    build_ids: Option<(u32, u32)>,
}

impl World {
    /// Publishes nothing yet: packs `entries`' fixtures, writes the index, and sets up the
    /// wrappers, the rakudo home, the stub packages and an empty build root.
    fn new(entries: &[(PathBuf, Value)]) -> World {
        // The build user must be able to reach everything: /tmp, not $TMPDIR.
        let dir = tempfile::Builder::new()
            .prefix("raku-aur-install-")
            .tempdir_in("/tmp")
            .expect("create the test directory");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let archive = dir.path().join("archive");
        for (source, entry) in entries {
            common::fixtures::write_fixture_archive(source, entry, &archive);
        }
        let index: Vec<&Value> = entries.iter().map(|(_, entry)| entry).collect();
        let http = TestServer::serve_dir(&archive);
        let aur = sshd::start();
        let build_ids = arch::build_ids();
        let world = World {
            dir,
            http,
            aur,
            build_ids,
        };
        fs::write(
            world.path("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
        let metadata = json!([{
            "Name": "rakudo", "PackageBase": "rakudo", "Version": "2026.04-1",
            "Maintainer": "someone", "Provides": ["perl6"]
        }]);
        fs::write(world.path("aur.json"), metadata.to_string()).unwrap();
        fs::write(
            world.path("known_hosts"),
            format!("{}\n", world.aur.known_hosts_line()),
        )
        .unwrap();
        world.arch_stand_in();
        world
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn build_root(&self) -> PathBuf {
        self.path("build-root")
    }

    /// Makes `path` (and what is under it) the build user's.
    fn give(&self, path: &Path) {
        arch::give(path, self.build_ids);
    }

    /// What the build user gets instead of an Arch system's rakudo and pacman configuration.
    fn arch_stand_in(&self) {
        for d in ["bin", "home", "build", "repo", "packages", "tmp"] {
            fs::create_dir(self.path(d)).unwrap();
        }
        let root = self.build_root();
        fs::create_dir_all(root.join("var/lib/pacman")).unwrap();
        fs::write(
            self.path("pacman.conf"),
            format!(
                "[options]\nArchitecture = auto\nSigLevel = Never\n\n[fixtures]\nServer = file://{}\n",
                self.path("repo").display()
            ),
        )
        .unwrap();
        let bin = self.path("bin");
        arch::write_install_dist(&bin);
        // makepkg's dependency check (`$PACMAN -T`) then asks about the build root.
        arch::write_script(
            &bin.join("pacman-build-root"),
            &format!("exec pacman {} \"$@\"", self.pacman_args(&root).join(" ")),
        );
        arch::write_mirror_makepkg_conf(&bin, &self.path("makepkg.conf"), &self.http);
        self.rakudo_home("rakudo-home", &root);
        for d in ["home", "build", "repo", "packages", "tmp"] {
            self.give(&self.path(d));
        }
        let dir = arch::write_stubs(&self.path("packages"), &STUBS, self.build_ids);
        let built = self.makepkg(&dir);
        assert!(built.status.success(), "stubs:\n{}", text(&built));
        self.repo_add();
    }

    /// Debian's rakudo with the vendor repository where Arch's has it, in `root`:
    /// `<dir>/core`, `lib` and `runtime` are Debian's, `site` a private copy.
    fn rakudo_home(&self, name: &str, root: &Path) {
        arch::rakudo_home(&self.path(name), root);
    }

    /// pacman's options for a test root: its own database, cache and log, our configuration.
    fn pacman_args(&self, root: &Path) -> Vec<String> {
        self.pacman_args_with(&self.path("pacman.conf"), root)
    }

    fn pacman_args_with(&self, config: &Path, root: &Path) -> Vec<String> {
        vec![
            format!("--root={}", root.display()),
            format!("--dbpath={}", root.join("var/lib/pacman").display()),
            format!("--cachedir={}", root.join("var/cache/pacman/pkg").display()),
            format!("--logfile={}", root.join("var/log/pacman.log").display()),
            format!("--config={}", config.display()),
            "--noconfirm".into(),
        ]
    }

    /// `pacman -Sy <args>` into `root`, as root or under fakeroot, as a helper runs it with sudo.
    fn pacman_sync(&self, root: &Path, args: &[&str]) -> Output {
        self.pacman_sync_with(&self.path("pacman.conf"), root, args)
    }

    fn pacman_sync_with(&self, config: &Path, root: &Path, args: &[&str]) -> Output {
        let mut command = if as_root() {
            Command::new("pacman")
        } else {
            let mut c = Command::new("fakeroot");
            c.arg("pacman");
            c
        };
        command
            .args(self.pacman_args_with(config, root))
            .arg("-Sy")
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("start pacman")
    }

    /// `program` run as the build user with only the environment `env` (`NAME=value`).
    fn as_user(&self, env: &[String], program: &str) -> Command {
        arch::as_user(self.build_ids, env, program)
    }

    /// `program` run as the build user, set up for building against the build root.
    fn as_build_user(&self, program: &str) -> Command {
        let build = self.path("build").display().to_string();
        let env = [
            format!("PATH={}:/usr/bin:/bin", self.path("bin").display()),
            format!("HOME={}", self.path("home").display()),
            format!("TMPDIR={}", self.path("tmp").display()),
            format!("MAKEPKG_CONF={}", self.path("makepkg.conf").display()),
            format!("PACMAN={}", self.path("bin/pacman-build-root").display()),
            format!("RAKUDO_HOME={}", self.path("rakudo-home").display()),
            format!("BUILDDIR={build}"),
            format!("SRCDEST={build}"),
            format!("LOGDEST={build}"),
            format!("PKGDEST={}", self.path("repo").display()),
        ];
        self.as_user(&env, program)
    }

    fn makepkg(&self, dir: &Path) -> Output {
        self.as_build_user("makepkg")
            .args(["--noconfirm", "--noprogressbar"])
            .current_dir(dir)
            .output()
            .expect("start makepkg")
    }

    /// Adds every built package to the local repository, as the build user.
    fn repo_add(&self) {
        let repo = self.path("repo");
        let mut packages: Vec<PathBuf> = fs::read_dir(&repo)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".pkg.tar"))
            .collect();
        packages.sort();
        run(self
            .as_build_user("repo-add")
            .arg("-q")
            .arg(repo.join("fixtures.db.tar.gz"))
            .args(&packages));
    }

    fn sync(&self, only: &[&str], extra: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        self.sync_args(&mut command, &self.aur.client_key(), only, extra);
        command.output().expect("raku-aur runs")
    }

    fn sync_args(&self, command: &mut Command, key: &Path, only: &[&str], extra: &[&str]) {
        let known_hosts = self.path("known_hosts");
        common::sync_cmd::add_sync_args(
            command,
            self.dir.path(),
            &self.http,
            &self.aur,
            key,
            &known_hosts,
        );
        for name in only {
            command.args(["--only", name]);
        }
        command.args(extra);
    }

    fn report_status(&self, pkgbase: &str) -> (String, String) {
        let report = common::world::read_report(&self.path("state"));
        common::world::report_status(&report, pkgbase)
    }

    /// Clones `pkgbase` from the server with the git CLI, as a helper does, into `packages/`.
    fn clone_package(&self, pkgbase: &str) -> PathBuf {
        let dest = self.path("packages").join(pkgbase);
        let url = self.aur.remote_template().replace("{pkgbase}", pkgbase);
        run(Command::new("git")
            .args(["clone", "-q", &url])
            .arg(&dest)
            .env("GIT_SSH_COMMAND", self.aur.git_ssh_command())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", "/nonexistent"));
        self.give(&dest);
        dest
    }
}

impl Drop for World {
    /// Read-only directories would outlive the temporary directory when not running as root.
    fn drop(&mut self) {
        set_writable(&self.build_root(), true);
    }
}

/// Names of the packages in `targets`' closure among `srcinfos`, each after what it needs.
fn build_order(srcinfos: &BTreeMap<String, String>, targets: &[&str]) -> Vec<String> {
    let needs = |name: &str| -> Vec<String> {
        ["depends", "makedepends", "checkdepends"]
            .iter()
            .flat_map(|key| srcinfo_values(&srcinfos[name], key))
            .map(|d| dep_name(&d).to_string())
            .filter(|d| srcinfos.contains_key(d))
            .collect()
    };
    fn visit(
        name: &str,
        needs: &dyn Fn(&str) -> Vec<String>,
        order: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) {
        if seen.insert(name.to_string()) {
            for dep in needs(name) {
                visit(&dep, needs, order, seen);
            }
            order.push(name.to_string());
        }
    }
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for target in targets {
        visit(target, &needs, &mut order, &mut seen);
    }
    order
}

/// What an AUR helper does for one package: install its dependencies into the build root,
/// then makepkg it (checks included) as the build user. Returns makepkg's output; asserts
/// that the build wrote nothing into the build root, the rakudo home or the build user's HOME.
fn helper_build(world: &World, dir: &Path, srcinfo: &str) -> Output {
    let deps: Vec<String> = ["depends", "makedepends", "checkdepends"]
        .iter()
        .flat_map(|key| srcinfo_values(srcinfo, key))
        .map(|d| dep_name(&d).to_string())
        .collect();
    let root = world.build_root();
    if !deps.is_empty() {
        set_writable(&root, true);
        let mut args = vec!["--needed", "--asdeps"];
        args.extend(deps.iter().map(String::as_str));
        let installed = world.pacman_sync(&root, &args);
        assert!(
            installed.status.success(),
            "pacman cannot install {deps:?}:\n{}",
            text(&installed)
        );
    }
    // On Arch the build user cannot write to /usr: neither may it here.
    set_writable(&root, false);
    // makepkg may write only to BUILDDIR, SRCDEST, PKGDEST and LOGDEST.
    let outside = [
        root.clone(),
        world.path("rakudo-home"),
        world.path("home"),
        dir.to_path_buf(),
    ];
    let before: Vec<_> = outside.iter().map(|d| snapshot(d)).collect();
    let output = world.makepkg(dir);
    let after: Vec<_> = outside.iter().map(|d| snapshot(d)).collect();
    assert!(
        before == after,
        "building {} wrote outside $pkgdir",
        dir.display()
    );
    output
}

#[test]
fn published_packages_build_install_and_load_like_an_aur_helper_does() {
    let started = Instant::now();
    let entries: Vec<(PathBuf, Value)> = fixture_metas()
        .into_iter()
        .map(|(dir, meta)| (dir, index_entry(&meta)))
        .collect();
    let world = World::new(&entries);
    eprintln!("stand-in world ready: {:?}", started.elapsed());

    let synced = world.sync(&[], &[]);
    assert_eq!(synced.status.code(), Some(0), "{}", text(&synced));
    let pkgbases: Vec<String> = entries
        .iter()
        .map(|(_, e)| {
            let name = e["name"].as_str().unwrap();
            format!("raku-{}", name.to_lowercase().replace("::", "-"))
        })
        .collect();
    for pkgbase in &pkgbases {
        assert_eq!(world.report_status(pkgbase).0, "pushed", "{pkgbase}");
    }
    eprintln!("synced: {:?}", started.elapsed());

    let mut srcinfos = BTreeMap::new();
    let mut dirs = BTreeMap::new();
    for pkgbase in &pkgbases {
        let dir = world.clone_package(pkgbase);
        srcinfos.insert(
            pkgbase.clone(),
            fs::read_to_string(dir.join(".SRCINFO")).unwrap(),
        );
        dirs.insert(pkgbase.clone(), dir);
    }
    let targets = ["raku-fixture-top", "raku-fixture-checked"];
    let order = build_order(&srcinfos, &targets);
    assert_eq!(
        order.len(),
        pkgbases.len(),
        "the targets need every fixture"
    );
    assert!(
        order.iter().position(|p| p == "raku-fixture-base")
            < order.iter().position(|p| p == "raku-fixture-middle")
    );
    for pkgbase in &order {
        let output = helper_build(&world, &dirs[pkgbase], &srcinfos[pkgbase]);
        let log = text(&output);
        assert!(output.status.success(), "makepkg {pkgbase}:\n{log}");
        // Every fixture has tests: check() ran and passed.
        assert!(log.contains("Starting check()"), "{pkgbase}:\n{log}");
        assert!(log.contains("All tests successful"), "{pkgbase}:\n{log}");
        world.repo_add();
        eprintln!("built {pkgbase}: {:?}", started.elapsed());
    }
    for dir in ["home", "tmp"] {
        let left: Vec<_> = fs::read_dir(world.path(dir)).unwrap().collect();
        assert!(left.is_empty(), "the builds left files in {dir}: {left:?}");
    }

    // pacman resolves the dependencies, from a fresh root.
    let root = world.path("install-root");
    fs::create_dir_all(root.join("var/lib/pacman")).unwrap();
    let installed = world.pacman_sync(&root, &targets);
    assert!(installed.status.success(), "{}", text(&installed));
    let listed = run(Command::new("pacman")
        .args(world.pacman_args(&root))
        .args(["-Qq"]));
    let listed: BTreeSet<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let mut expected: BTreeSet<String> = pkgbases.iter().cloned().collect();
    // Only a check needs perl: an installation does not.
    expected.extend(["rakudo".to_string(), "zlib".to_string()]);
    assert_eq!(listed, expected);
    eprintln!("installed: {:?}", started.elapsed());

    // Without the zlib stand-in pacman refuses: the native dependency is checked for real.
    let repo = world.path("repo-without-zlib");
    fs::create_dir(&repo).unwrap();
    let mut copied = Vec::new();
    for entry in fs::read_dir(world.path("repo")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains(".pkg.tar") && !name.starts_with("zlib-") {
            fs::copy(&path, repo.join(&name)).unwrap();
            copied.push(repo.join(&name));
        }
    }
    run(Command::new("repo-add")
        .arg("-q")
        .arg(repo.join("fixtures.db.tar.gz"))
        .args(&copied));
    let config = world.path("pacman-without-zlib.conf");
    let conf = fs::read_to_string(world.path("pacman.conf")).unwrap();
    let with_repo = world.path("repo").display().to_string();
    fs::write(
        &config,
        conf.replace(&with_repo, &repo.display().to_string()),
    )
    .unwrap();
    let bare_root = world.path("root-without-zlib");
    fs::create_dir_all(bare_root.join("var/lib/pacman")).unwrap();
    let refused = world.pacman_sync_with(&config, &bare_root, &["raku-fixture-top"]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused)
            .contains("unable to satisfy dependency 'zlib' required by raku-fixture-native"),
        "{}",
        text(&refused)
    );

    // The installed modules load from the vendor repository, and the script runs.
    // Resources are found through the repository named `vendor`, so `RAKULIB=inst#...` is not
    // enough: rakudo's vendor repository must be the install root's, as on Arch.
    world.rakudo_home("installed-rakudo-home", &root);
    let load_home = world.path("load-home");
    fs::create_dir(&load_home).unwrap();
    world.give(&load_home);
    let env = [
        "PATH=/usr/bin:/bin".to_string(),
        format!("HOME={}", load_home.display()),
        format!(
            "RAKUDO_HOME={}",
            world.path("installed-rakudo-home").display()
        ),
    ];
    let raku = |args: &[&str]| run(world.as_user(&env, "raku").args(args).current_dir("/"));
    let loaded = raku(&[
        "-e",
        "use Fixture::Top; use Fixture::Checked; use Fixture::Resources; \
         say top-words(); say checked(); say greeting()",
    ]);
    let loaded = String::from_utf8_lossy(&loaded.stdout).into_owned();
    let mut lines = loaded.lines();
    let top = lines.next().unwrap_or_default();
    assert!(
        top.starts_with("base+middle (hello from a resource)+top, zlib 1."),
        "{loaded}"
    );
    assert_eq!(lines.next(), Some("checked"), "{loaded}");
    assert_eq!(lines.next(), Some("hello from a resource"), "{loaded}");

    let link = fs::read_link(root.join("usr/bin/fixture-top")).expect("/usr/bin/fixture-top");
    assert_eq!(link, Path::new("/usr/share/perl6/vendor/bin/fixture-top"));
    let script = root.join(link.strip_prefix("/").unwrap());
    let ran = raku(&[&script.to_string_lossy()]);
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).lines().next(),
        Some(top)
    );

    assert!(
        root.join("usr/share/licenses/raku-fixture-base/LICENSE")
            .is_file()
    );
    assert!(!root.join("usr/share/licenses/raku-fixture-top").exists());

    // No file belongs to two packages, and none is a file every installation shares.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for pkgbase in &pkgbases {
        let file = fs::read_dir(world.path("repo"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with(&format!("{pkgbase}-")) && name.contains(".pkg.tar")
            })
            .unwrap_or_else(|| panic!("no package file for {pkgbase}"));
        let listing = run(Command::new("bsdtar").arg("-tf").arg(&file));
        for path in String::from_utf8_lossy(&listing.stdout).lines() {
            if path.ends_with('/') || path.starts_with('.') {
                continue;
            }
            assert!(
                !SHARED_VENDOR_FILES.contains(&path),
                "{pkgbase} ships the shared {path}"
            );
            if let Some(other) = owners.insert(path.to_string(), pkgbase.clone()) {
                panic!("{path} is in both {other} and {pkgbase}");
            }
        }
    }
    assert!(owners.len() > pkgbases.len());
    eprintln!("done: {:?}", started.elapsed());
}

/// Upstream went back (2.0, then 1.9): the package is published as `1:1.9-1`, and a dependent
/// pinned to 1.9 is rendered with bounds that carry the epoch, so pacman installs both. Without
/// the epoch in its bounds (`raku-fixture-base<1.10`) no version could ever satisfy it.
#[test]
fn an_epoch_bump_and_a_dependent_pinned_to_the_regressed_version_install() {
    let metas = fixture_metas();
    let meta = |name: &str| {
        metas
            .iter()
            .find(|(_, m)| m["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no fixture {name}"))
    };
    let (base_dir, base) = meta("Fixture::Base");
    let (checked_dir, checked) = meta("Fixture::Checked");
    let release = |meta: &Value, version: &str| {
        let mut m = meta.clone();
        m["version"] = json!(version);
        index_entry(&m)
    };
    let base_2 = release(&base, "2.0");
    let base_1_9 = release(&base, "1.9");
    let mut pinned = checked.clone();
    pinned["depends"] = json!(["Fixture::Base:ver<1.9>"]);
    let pinned = index_entry(&pinned);
    let world = World::new(&[
        (base_dir.clone(), base_2.clone()),
        (base_dir, base_1_9.clone()),
        (checked_dir, pinned.clone()),
    ]);
    let set_index = |entries: &[&Value]| {
        fs::write(
            world.path("index.json"),
            serde_json::to_vec(entries).unwrap(),
        )
        .unwrap();
    };

    set_index(&[&base_2]);
    let synced = world.sync(&[], &[]);
    assert_eq!(synced.status.code(), Some(0), "{}", text(&synced));
    assert_eq!(world.report_status("raku-fixture-base").0, "pushed");
    // The AUR's metadata now lists our package at its published version.
    let metadata = json!([
        {"Name": "rakudo", "PackageBase": "rakudo", "Version": "2026.04-1",
         "Maintainer": "someone", "Provides": ["perl6"]},
        {"Name": "raku-fixture-base", "PackageBase": "raku-fixture-base", "Version": "2.0-1",
         "Maintainer": common::sshd::BOT_ACCOUNT, "Depends": ["rakudo"]},
    ]);
    fs::write(world.path("aur.json"), metadata.to_string()).unwrap();

    set_index(&[&base_1_9, &pinned]);
    let synced = world.sync(&[], &[]);
    assert_eq!(synced.status.code(), Some(0), "{}", text(&synced));
    let (status, detail) = world.report_status("raku-fixture-base");
    assert_eq!(status, "pushed");
    assert!(detail.contains("epoch 1"), "{detail}");
    assert_eq!(world.report_status("raku-fixture-checked").0, "pushed");

    let mut srcinfos = BTreeMap::new();
    let mut dirs = BTreeMap::new();
    for pkgbase in ["raku-fixture-base", "raku-fixture-checked"] {
        let dir = world.clone_package(pkgbase);
        srcinfos.insert(pkgbase, fs::read_to_string(dir.join(".SRCINFO")).unwrap());
        dirs.insert(pkgbase, dir);
    }
    assert!(srcinfos["raku-fixture-base"].contains("\tepoch = 1\n"));
    let depends = srcinfo_values(&srcinfos["raku-fixture-checked"], "depends");
    assert!(
        depends.contains(&"raku-fixture-base>=1:1.9".to_string())
            && depends.contains(&"raku-fixture-base<1:1.10".to_string()),
        "{depends:?}"
    );
    for pkgbase in ["raku-fixture-base", "raku-fixture-checked"] {
        let output = helper_build(&world, &dirs[pkgbase], &srcinfos[pkgbase]);
        assert!(
            output.status.success(),
            "makepkg {pkgbase}:\n{}",
            text(&output)
        );
        world.repo_add();
    }
    let root = world.path("install-root");
    fs::create_dir_all(root.join("var/lib/pacman")).unwrap();
    let installed = world.pacman_sync(&root, &["raku-fixture-checked"]);
    assert!(installed.status.success(), "{}", text(&installed));
    let listed = run(Command::new("pacman")
        .args(world.pacman_args(&root))
        .args(["-Q", "raku-fixture-base"]));
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).trim(),
        "raku-fixture-base 1:1.9-1"
    );
}
