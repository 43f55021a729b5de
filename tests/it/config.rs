//! The config file end to end: `check-config` on good and bad settings, and `render` with a
//! config that applies each per-distribution override to the fixture ecosystem
//! (`tests/fixtures/ecosystem/`, plus a few entries made up here), read back from the rendered
//! files and `report.json`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;
use common::fixtures::{self, REA_ARCHIVE_PREFIX, fixture_metas, index_entry};
use common::http::TestServer;
use serde_json::{Value, json};

/// The fixture ecosystem and some made-up entries, archived and served; an empty config
/// directory for `XDG_CONFIG_HOME`.
struct World {
    dir: tempfile::TempDir,
    server: TestServer,
}

/// An entry written here rather than in tests/fixtures: only its index entry matters.
fn made_up(name: &str, version: &str, auth: &str, depends: &[&str]) -> Value {
    index_entry(&json!({
        "name": name, "version": version, "auth": auth, "license": "Artistic-2.0",
        "description": "A made-up distribution", "depends": depends,
        "provides": { name: format!("lib/{}.rakumod", name.replace("::", "/")) },
    }))
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut entries: Vec<Value> = fixture_metas()
            .iter()
            .map(|(_, meta)| index_entry(meta))
            .collect();
        entries.extend([
            // Newer than the fixture's Fixture::Base, by someone else.
            made_up("Fixture::Base", "0.2.0", "zef:impostor", &[]),
            made_up("Fixture::Extra", "1.0.0", "zef:t", &["mylib:from<native>"]),
            made_up("Fixture::Unwanted", "1.0.0", "zef:t", &[]),
            made_up(
                "Fixture::NeedsUnwanted",
                "1.0.0",
                "zef:t",
                &["Fixture::Unwanted"],
            ),
            made_up("Fixture::Held", "1.0.0", "zef:t", &[]),
        ]);
        let archive = dir.path().join("archive");
        for entry in &entries {
            fixtures::write_archive_for(entry, &archive, REA_ARCHIVE_PREFIX);
        }
        fs::write(
            dir.path().join("index.json"),
            serde_json::to_vec(&entries).unwrap(),
        )
        .unwrap();
        let server = TestServer::serve_dir(&archive);
        World { dir, server }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary, with a config directory of this world's own (empty unless a test writes
    /// into it).
    fn raku_aur(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
        command
            .env("XDG_CONFIG_HOME", self.path("xdg"))
            .env("RUST_LOG", "warn");
        command
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    /// A config file's lines that point render at this world: index, cache and mirror.
    fn source_settings(&self) -> String {
        format!(
            "indexes = [\"{}\"]\ncache-dir = \"{}\"\n\n[mirrors]\n\"{REA_ARCHIVE_PREFIX}\" = \"{}\"\n",
            self.path("index.json").display(),
            self.path("cache").display(),
            self.server.base_url()
        )
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn ok(output: &Output) {
    assert!(output.status.success(), "{}", text(output));
}

fn report(out: &Path) -> Value {
    serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap()
}

fn rendered<'a>(report: &'a Value, pkgbase: &str) -> &'a Value {
    report["rendered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pkgbase"] == pkgbase)
        .unwrap_or_else(|| panic!("{pkgbase} not rendered: {report:#}"))
}

fn held_reason(report: &Value, dist_prefix: &str) -> String {
    report["held"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["dist"].as_str().unwrap().starts_with(dist_prefix))
        .unwrap_or_else(|| panic!("{dist_prefix} not held: {report:#}"))["reason"]
        .as_str()
        .unwrap()
        .to_string()
}

fn depends(report: &Value, pkgbase: &str) -> Vec<String> {
    rendered(report, pkgbase)["depends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect()
}

fn read(out: &Path, pkgbase: &str, file: &str) -> String {
    fs::read_to_string(out.join(pkgbase).join(file)).unwrap()
}

#[test]
fn render_applies_every_per_distribution_override() {
    let world = World::new();

    // Without a config file (none in XDG_CONFIG_HOME), flags alone: the baseline.
    let plain = world.path("plain");
    ok(&world
        .raku_aur()
        .arg("render")
        .arg("--index")
        .arg(world.path("index.json"))
        .arg("--cache")
        .arg(world.path("cache"))
        .arg("--mirror")
        .arg(format!("{REA_ARCHIVE_PREFIX}={}", world.server.base_url()))
        .arg("--out")
        .arg(&plain)
        .output()
        .unwrap());
    let before = report(&plain);
    assert_eq!(
        rendered(&before, "raku-fixture-base")["dist"],
        "Fixture::Base:ver<0.2.0>:auth<zef:impostor>"
    );
    assert!(read(&plain, "raku-fixture-checked", "PKGBUILD").contains("\ncheck() {"));
    assert!(depends(&before, "raku-fixture-top").contains(&"raku-fixture-native".to_string()));
    assert!(held_reason(&before, "Fixture::Extra:").contains("mylib"));
    rendered(&before, "raku-fixture-unwanted");
    rendered(&before, "raku-fixture-held");

    let config = world.write(
        "etc/config.toml",
        &format!(
            r#"maintainer = "Config Bot <bot@example.org>"
indexes = ["../index.json"]
cache-dir = "../cache"

[mirrors]
"{REA_ARCHIVE_PREFIX}" = "{}"

[publish]
exclude = ["Fixture::Unwanted"]

[system.native]
mylib = "libmylib"

[system.bin]
mytool = "mytool-bin"

[dist."Fixture::Base"]
auth = "zef:raku-aur-test"

[dist."Fixture::Checked"]
skip-check = true

[dist."Fixture::Top"]
extra-depends = ["Fixture::Resources:ver<0.2+>", "mytool:from<bin>"]
drop-depends = ["Fixture::Native"]

[dist."Fixture::Held"]
hold = "waits for upstream"
"#,
            world.server.base_url()
        ),
    );
    let out = world.path("out");
    ok(&world
        .raku_aur()
        .arg("--config")
        .arg(&config)
        .arg("render")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    let after = report(&out);
    let origin = config.display().to_string();

    // auth pin: the fixture's own 0.1.0, not the impostor's newer release.
    let base = rendered(&after, "raku-fixture-base");
    assert_eq!(base["pkgver"], "0.1");
    assert_eq!(
        base["dist"],
        "Fixture::Base:ver<0.1.0>:auth<zef:raku-aur-test>"
    );

    // skip-check: no check(), no checkdepends, and a note saying why.
    let pkgbuild = read(&out, "raku-fixture-checked", "PKGBUILD");
    assert!(!pkgbuild.contains("check()"), "{pkgbuild}");
    assert!(!pkgbuild.contains("checkdepends"), "{pkgbuild}");
    assert!(!read(&out, "raku-fixture-checked", ".SRCINFO").contains("checkdepends"));
    let notes = &rendered(&after, "raku-fixture-checked")["notes"];
    assert_eq!(notes[0], format!("no check(): {origin} sets skip-check"));

    // extra-depends (a Raku dist with a bound, a program mapped by [system.bin]) and
    // drop-depends.
    let top = depends(&after, "raku-fixture-top");
    assert_eq!(
        top,
        [
            "mytool-bin",
            "raku-fixture-middle",
            "raku-fixture-resources>=0.2",
            "rakudo"
        ],
        "{after:#}"
    );
    let srcinfo = read(&out, "raku-fixture-top", ".SRCINFO");
    assert!(
        srcinfo.contains("\tdepends = raku-fixture-resources>=0.2\n"),
        "{srcinfo}"
    );
    assert!(!srcinfo.contains("raku-fixture-native"), "{srcinfo}");

    // A [system.native] addition.
    assert_eq!(
        depends(&after, "raku-fixture-extra"),
        ["libmylib", "rakudo"]
    );

    // exclude (and what needs it), hold.
    assert_eq!(
        held_reason(&after, "Fixture::Unwanted:"),
        format!("excluded by publish.exclude in {origin}")
    );
    assert_eq!(
        held_reason(&after, "Fixture::NeedsUnwanted:"),
        "needs raku-fixture-unwanted, which is held back"
    );
    assert_eq!(
        held_reason(&after, "Fixture::Held:"),
        format!("held by {origin}: waits for upstream")
    );
    assert!(!out.join("raku-fixture-held").exists());

    // The maintainer from the file.
    assert!(pkgbuild.starts_with("# Maintainer: Config Bot <bot@example.org>\n"));
}

#[test]
fn the_default_location_is_read_and_flags_win_over_it() {
    let world = World::new();
    world.write(
        "xdg/raku-aur/config.toml",
        &format!(
            "maintainer = \"Config Bot <bot@example.org>\"\n{}\n[dist.\"Fixture::Resources\"]\nauth = \"zef:nobody\"\n",
            world.source_settings()
        ),
    );
    let out = world.path("out");
    ok(&world
        .raku_aur()
        .arg("render")
        .arg("--maintainer")
        .arg("Flag Person <flag@example.org>")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    let after = report(&out);
    let reason = held_reason(&after, "Fixture::Resources:");
    assert!(
        reason.ends_with("pins auth zef:nobody, and the index has no release by it (the newest is by zef:raku-aur-test)"),
        "{reason}"
    );
    // Dependents are held with it.
    assert_eq!(
        held_reason(&after, "Fixture::Middle:"),
        "needs raku-fixture-resources, which is held back"
    );
    assert_eq!(
        held_reason(&after, "Fixture::Top:"),
        "needs raku-fixture-middle, which is held back"
    );
    let pkgbuild = read(&out, "raku-fixture-base", "PKGBUILD");
    assert!(
        pkgbuild.starts_with("# Maintainer: Flag Person <flag@example.org>\n"),
        "{pkgbuild}"
    );
}

#[test]
fn a_bad_or_missing_config_stops_the_run_before_anything_is_written() {
    let world = World::new();
    let config = world.write(
        "config.toml",
        &format!(
            "{}\n[dist.\"Fixture::Top\"]\nextra-depends = [\"Fixture::Base:ver<1\"]\n",
            world.source_settings()
        ),
    );
    let out = world.path("out");
    let run = |config: &Path| {
        world
            .raku_aur()
            .arg("--config")
            .arg(config)
            .arg("render")
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    let output = run(&config);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "config file {}, line 8, column 17, key dist.\"Fixture::Top\".extra-depends: dependency string \"Fixture::Base:ver<1\" is malformed",
            config.display()
        )),
        "{stderr}"
    );
    assert!(!out.exists());

    let output = run(&world.path("no-such.toml"));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("no-such.toml given with --config does not exist"),
        "{}",
        text(&output)
    );
    assert!(!out.exists());
}

#[test]
fn sync_says_which_setting_is_missing() {
    let world = World::new();
    let output = world.raku_aur().arg("sync").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let config = world.path("xdg/raku-aur/config.toml");
    assert!(
        stderr.contains(&format!(
            "sync needs a state directory: pass --state DIR or set state-dir in a config file ({} does not exist)",
            config.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("sync needs the bot's AUR account: pass --aur-user NAME or set aur-user"),
        "{stderr}"
    );
    assert!(
        stderr.contains("maintainer \"raku-aur <raku-aur@example.invalid>\" is a placeholder"),
        "{stderr}"
    );
}

#[test]
fn sync_refuses_a_bad_or_placeholder_maintainer_before_doing_anything() {
    let world = World::new();
    let state = world.path("state");
    for (maintainer, expected) in [
        ("nobody", "maintainer: nobody is not `Name <email>`"),
        (
            "Jane <jane@example.invalid>",
            "maintainer \"Jane <jane@example.invalid>\" is a placeholder",
        ),
    ] {
        let output = world
            .raku_aur()
            .args(["sync", "--aur-user", "bot", "--maintainer", maintainer])
            .arg("--state")
            .arg(&state)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(text(&output).contains(expected), "{}", text(&output));
        assert!(!state.exists(), "sync started anyway");
    }
}

/// A stand-in private key (check-config reads only its first line) with `mode`.
fn key_file(world: &World, mode: u32) -> PathBuf {
    let key = world.write(
        "etc/aur_key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    fs::set_permissions(&key, fs::Permissions::from_mode(mode)).unwrap();
    key
}

fn check_config(world: &World, config: &Path, extra: &[&str]) -> Output {
    world
        .raku_aur()
        .arg("--config")
        .arg(config)
        .arg("check-config")
        .args(extra)
        .output()
        .unwrap()
}

/// A complete config for sync, with its key and pinned host keys beside it.
fn good_config(world: &World) -> PathBuf {
    let aur_keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/aur.archlinux.org.known_hosts");
    world.write("etc/known_hosts", &fs::read_to_string(aur_keys).unwrap());
    world.write(
        "etc/config.toml",
        r#"maintainer = "Config Bot <bot@example.org>"
aur-user = "raku-aur-bot"
ssh-key = "aur_key"
known-hosts = "known_hosts"
state-dir = "/var/lib/raku-aur/state"
indexes = ["../index.json"]

[dist."Fixture::Checked"]
skip-check = true
provider-of = ["Fixture::Checked::Shared"]

[review]
changes = ["first-publication"]
"#,
    )
}

#[test]
fn check_config_prints_the_settings_and_where_each_came_from() {
    let world = World::new();
    key_file(&world, 0o600);
    let config = good_config(&world);
    let etc = world.path("etc");
    let output = check_config(
        &world,
        &config,
        &["--remote", "ssh://aur@aur.example.org/{pkgbase}.git"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in [
        format!("# config file {}", config.display()),
        "maintainer = \"Config Bot <bot@example.org>\"  # from the config file".to_string(),
        "aur-user = \"raku-aur-bot\"  # from the config file".to_string(),
        format!("ssh-key = \"{}/aur_key\"  # from the config file", etc.display()),
        format!("known-hosts = \"{}/known_hosts\"  # from the config file", etc.display()),
        "state-dir = \"/var/lib/raku-aur/state\"  # from the config file".to_string(),
        format!(
            "indexes = [\"{}\"]  # from the config file",
            etc.join("../index.json").display()
        ),
        "remote = \"ssh://aur@aur.example.org/{pkgbase}.git\"  # from the command line".to_string(),
        "aur-metadata = \"https://aur.archlinux.org/packages-meta-ext-v1.json.gz\"  # built-in default".to_string(),
        "publish.only = []  # built-in default".to_string(),
        "dist.\"Fixture::Checked\".skip-check = true  # from the config file".to_string(),
        "dist.\"Fixture::Checked\".provider-of = [\"Fixture::Checked::Shared\"]  # from the config file".to_string(),
        "review.changes = [\"first-publication\"]  # from the config file".to_string(),
        "usable".to_string(),
    ] {
        assert!(stdout.lines().any(|l| l == line), "no line {line:?} in:\n{stdout}");
    }
}

#[test]
fn check_config_lists_every_problem() {
    let world = World::new();
    let key = key_file(&world, 0o644);
    let config = good_config(&world);
    world.write("etc/known_hosts", "aur.archlinux.org ssh-ed25519 !!!\n");
    let output = check_config(
        &world,
        &config,
        &["--index", "missing.json", "--maintainer", "nobody"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let problems: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("problem: "))
        .collect();
    let expected = [
        "maintainer: nobody is not `Name <email>`".to_string(),
        format!(
            "ssh-key {} has mode 0644; a private key must not be open to group or others",
            key.display()
        ),
        format!(
            "known-hosts {} is invalid: host keys, line 1",
            world.path("etc/known_hosts").display()
        ),
        "indexes: missing.json cannot be read".to_string(),
    ];
    assert_eq!(problems.len(), expected.len(), "{stdout}");
    for (got, want) in problems.iter().zip(&expected) {
        assert!(
            got.starts_with(want.as_str()),
            "{got:?} is not {want:?}:\n{stdout}"
        );
    }
    assert!(stdout.ends_with("not usable: 4 problems\n"), "{stdout}");
}

#[test]
fn check_config_reports_an_invalid_file_with_its_line() {
    let world = World::new();
    let config = world.write(
        "etc/config.toml",
        "aur-user = \"bot\"\n\n[publish]\nonly = [\"JSON::Fast\"]\nexclud = []\n",
    );
    let output = check_config(&world, &config, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!(
            "problem: config file {}, line 5, column 1, key publish.exclud: unknown field `exclud`",
            config.display()
        )),
        "{stdout}"
    );
}
