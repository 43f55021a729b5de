//! Pieces of an Arch system on this Debian machine, for the suites that build and install our
//! packages (see the facts sheet, §10): Debian's rakudo standing in for Arch's without changing
//! what the PKGBUILDs say, stub packages for the Arch packages the fixtures need, a DLAGENT
//! that fetches REA's public URLs from the local server, and the build user makepkg runs as.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::fixtures::REA_ARCHIVE_PREFIX;
use super::http::TestServer;
use super::makepkg::{TEST_USER, test_user_ids};

/// Arch packages the fixtures need that are not ours, and what each provides: stubs stand in
/// for them. `perl` is every package's checkdepend (`prove`); `zlib` is Fixture::Native's
/// library.
pub const STUBS: [(&str, &str); 3] = [("rakudo", "perl6"), ("perl", ""), ("zlib", "")];

/// Whether the tests run as root; then makepkg runs as [`TEST_USER`].
pub fn as_root() -> bool {
    fs::metadata("/proc/self").expect("stat /proc/self").uid() == 0
}

/// The build user's uid and gid when the tests run as root (it is then [`TEST_USER`]);
/// `None` when the tests run unprivileged and build as themselves.
pub fn build_ids() -> Option<(u32, u32)> {
    as_root().then(test_user_ids)
}

/// Everything under `dir` (not following links) with size, mtime and mode: two equal snapshots
/// mean nothing was written there.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, i64, u32)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            for entry in fs::read_dir(&path).expect("read a directory") {
                stack.push(entry.expect("a directory entry").path());
            }
        }
        out.insert(path, (meta.len(), meta.mtime(), meta.mode()));
    }
    out
}

/// Makes `path` (and what is under it) the build user's, when there is one.
pub fn give(path: &Path, build_ids: Option<(u32, u32)>) {
    if let Some((uid, gid)) = build_ids {
        for p in snapshot(path).keys() {
            std::os::unix::fs::lchown(p, Some(uid), Some(gid)).expect("chown to the build user");
        }
    }
}

/// stdout then stderr, for assertion messages.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `command`; panics with its output unless it succeeds.
pub fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}",
        output.status,
        text(&output)
    );
    output
}

/// A bash script at `path`.
pub fn write_script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/bash\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// `program` run as the build user with only the environment `env` (`NAME=value`).
pub fn as_user(build_ids: Option<(u32, u32)>, env: &[String], program: &str) -> Command {
    let mut command = if build_ids.is_some() {
        let mut c = Command::new("runuser");
        c.args(["-u", TEST_USER, "--", "env", "-i"]);
        c
    } else {
        let mut c = Command::new("env");
        c.arg("-i");
        c
    };
    command.arg("LC_ALL=C.UTF-8").args(env).arg(program);
    command
}

/// `bin/perl6-install-dist`, the name Arch's rakudo installs `tools/install-dist.raku` under.
pub fn write_install_dist(bin: &Path) {
    write_script(
        &bin.join("perl6-install-dist"),
        "exec raku /usr/share/perl6/tools/install-dist.raku \"$@\"",
    );
}

/// The PKGBUILDs name REA's public URLs: `bin/fetch-from-mirror` fetches those from `http`,
/// and `conf`, a makepkg.conf for `MAKEPKG_CONF`, makes it makepkg's https agent.
pub fn write_mirror_makepkg_conf(bin: &Path, conf: &Path, http: &TestServer) {
    let agent = bin.join("fetch-from-mirror");
    write_script(
        &agent,
        &format!(
            "exec curl -fsS -o \"$1\" \"${{2/#{}/{}}}\"",
            REA_ARCHIVE_PREFIX.replace('/', "\\/"),
            http.base_url().replace('/', "\\/")
        ),
    );
    fs::write(
        conf,
        format!(
            "source /etc/makepkg.conf\nDLAGENTS=('https::{agent} %o %u')\n{DOWNLOAD_FILE}",
            agent = agent.display()
        ),
    )
    .unwrap();
}

/// makepkg 6.0.2's `download_file` under Debian's bash 5.2 sometimes exits silently, right
/// after "Retrieving sources...": its `wait $! || exit` waits for a process substitution that
/// bash may already have reaped (seen twice in about six full runs, under load). The config
/// is sourced after makepkg's libraries, so this copy, without that `wait`, replaces it; it
/// still downloads through the https DLAGENT above.
const DOWNLOAD_FILE: &str = r#"
download_file() {
	local netfile=$1
	local filepath=$(get_filepath "$netfile")
	if [[ -n "$filepath" ]]; then
		msg2 "Found %s" "${filepath##*/}"
		return
	fi
	local filename=$(get_filename "$netfile")
	local url=$(get_url "$netfile")
	local agent=${DLAGENTS[0]#https::}
	agent=${agent%% *}
	msg2 "Downloading %s..." "$filename"
	if ! "$agent" "$filename.part" "$url"; then
		error "Failure while downloading %s" "$url"
		exit 1
	fi
	mv -f "$filename.part" "$filename"
}
"#;

/// Debian's rakudo with the vendor repository where Arch's has it, in `root`:
/// `home/core`, `lib` and `runtime` are Debian's, `site` a private copy.
pub fn rakudo_home(home: &Path, root: &Path) {
    fs::create_dir(home).unwrap();
    for part in ["core", "lib", "runtime"] {
        std::os::unix::fs::symlink(Path::new("/usr/lib/perl6").join(part), home.join(part))
            .unwrap();
    }
    run(Command::new("cp")
        .args(["-r", "/usr/lib/perl6/site"])
        .arg(home.join("site")));
    std::os::unix::fs::symlink(root.join("usr/share/perl6/vendor"), home.join("vendor")).unwrap();
}

/// Writes one split PKGBUILD building a stub for each of `stubs` (`(name, what it provides)`,
/// see [`STUBS`]) into `packages/stand-ins/`, owned by the build user; returns that directory.
/// One makepkg run for all of them: each run costs seconds of PKGBUILD linting.
pub fn write_stubs(
    packages: &Path,
    stubs: &[(&str, &str)],
    build_ids: Option<(u32, u32)>,
) -> PathBuf {
    write_stubs_at(packages, stubs, "1", build_ids)
}

/// [`write_stubs`] at version `pkgver` (pkgrel 1): a rakudo upgrade is a new stub version.
pub fn write_stubs_at(
    packages: &Path,
    stubs: &[(&str, &str)],
    pkgver: &str,
    build_ids: Option<(u32, u32)>,
) -> PathBuf {
    let dir = packages.join("stand-ins");
    fs::create_dir(&dir).unwrap();
    let names: Vec<&str> = stubs.iter().map(|(name, _)| *name).collect();
    let mut pkgbuild = format!(
        "pkgbase=stand-ins\npkgname=({})\npkgver={pkgver}\npkgrel=1\n\
         pkgdesc='Stand-in for a package of Arch'\narch=('any')\n",
        names.join(" ")
    );
    for (name, provides) in stubs {
        let provides = if provides.is_empty() {
            String::new()
        } else {
            format!("  provides=('{provides}')\n")
        };
        // rakudo owns its repositories' skeleton (`version`, `short/`): without them a
        // rakudo that cannot write there refuses to load anything.
        let body = if *name == "rakudo" {
            "  install -d \"$pkgdir/usr/share/perl6/vendor/short\"\n  \
             install -m644 /usr/lib/perl6/vendor/version \"$pkgdir/usr/share/perl6/vendor/\"\n"
        } else {
            "  :\n"
        };
        pkgbuild.push_str(&format!("package_{name}() {{\n{provides}{body}}}\n"));
    }
    fs::write(dir.join("PKGBUILD"), pkgbuild).unwrap();
    give(&dir, build_ids);
    dir
}
