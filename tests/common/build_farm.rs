//! The build farm's world on this Debian machine: what `[build] command` runs when the bot
//! builds a package in a clean root (on Arch, devtools' makechrootpkg), a pacman repository of
//! the Arch packages the builds need, signing keys, and a client that installs from a signed
//! repository.
//!
//! The builder is a bash script, `bin/raku-aur-test-builder`, run the way the bot runs a builder:
//! in the directory holding `PKGBUILD` and `.SRCINFO`, with `PKGDEST`, `RAKU_AUR_REPO` (a
//! `file://` URL) and `RAKU_AUR_REPO_NAME` set. Per build it makes a fresh pacman root, installs
//! into it exactly what `.SRCINFO` declares, from the system repository and the bot's own, and
//! runs makepkg (checks included) as the unprivileged build user against that root, as
//! `tests/it/with_tools/install.rs` does by hand. The root, the rakudo home and HOME are
//! read-only to the build: a build that writes there fails.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::arch::{self, STUBS, as_root, run, text, write_script};
use super::fixtures::REA_ARCHIVE_PREFIX;
use super::http::TestServer;
use super::makepkg::TEST_USER;

/// The name of the repository of stand-ins for Arch's own packages.
pub const SYSTEM_REPO: &str = "system";

/// The version of the `rakudo` stub a new farm starts with.
pub const RAKUDO_VERSION: &str = "2026.04";

/// The builder: one build per call. `@FARM@`, `@BUILD_USER@` and `@SYSTEM_REPO@` are filled
/// in by [`BuildFarm::new`].
const BUILDER: &str = r#"# The test build farm's stand-in for makechrootpkg: see tests/common/build_farm.rs.
set -euo pipefail
farm=@FARM@
build_user=@BUILD_USER@

fail() {
	printf 'raku-aur-test-builder: %s\n' "$*" >&2
	exit 1
}

[[ -f PKGBUILD && -f .SRCINFO ]] || fail "no PKGBUILD and .SRCINFO in $PWD"
[[ -n ${PKGDEST:-} && -d $PKGDEST ]] || fail "PKGDEST is not a directory: ${PKGDEST:-unset}"
[[ -n ${RAKU_AUR_REPO:-} && -n ${RAKU_AUR_REPO_NAME:-} ]] ||
	fail "RAKU_AUR_REPO and RAKU_AUR_REPO_NAME must be set"

# pacman needs root to install: fakeroot stands in for it, as for a test root elsewhere.
# makepkg refuses root: as root, the build runs as the build user.
if ((EUID == 0)); then
	privileged=()
	unprivileged=(runuser -u "$build_user" --)
else
	privileged=(fakeroot)
	unprivileged=()
fi

work=$(mktemp -d "$farm/builds/build.XXXXXX")
# Read-only directories (the root's; makepkg's $pkgdir, mode 0) survive a plain rm when not
# root. chmod -R leaves the symlinks into /usr/lib/perl6 alone.
trap 'chmod -R u+rwx "$work"; rm -rf "$work"' EXIT
chmod 755 "$work"
root=$work/root
rakudo_home=$work/rakudo-home
home=$work/home
scratch=$work/scratch
mkdir -p "$root/var/lib/pacman" "$root/var/cache/pacman/pkg" "$home" "$work/pkg" "$scratch"/{build,out,tmp}

conf=$work/pacman.conf
{
	printf '[options]\nArchitecture = auto\nSigLevel = Never\n'
	printf '\n[@SYSTEM_REPO@]\nServer = file://%s\n' "$farm/system-repo"
	# The bot's repository has no database before its first package.
	if [[ $RAKU_AUR_REPO != file://* || -e ${RAKU_AUR_REPO#file://}/$RAKU_AUR_REPO_NAME.db ]]; then
		printf '\n[%s]\nServer = %s\n' "$RAKU_AUR_REPO_NAME" "$RAKU_AUR_REPO"
	fi
} >"$conf"
pacman_args=(
	--root="$root" --dbpath="$root/var/lib/pacman" --cachedir="$root/var/cache/pacman/pkg"
	--logfile="$root/var/log/pacman.log" --gpgdir="$work/gnupg" --config="$conf"
)

# Whatever the package does not declare, it does not get.
mapfile -t deps < <(sed -nE "s/^\t(make|check)?depends(_$(uname -m))? = //p" .SRCINFO)
if ((${#deps[@]})); then
	"${privileged[@]}" pacman "${pacman_args[@]}" -Sy --noconfirm --needed --asdeps -- "${deps[@]}" ||
		fail "cannot install what .SRCINFO declares: ${deps[*]}"
fi

# Debian's rakudo with the root's vendor repository, as on Arch; no module of this host.
mkdir -p "$rakudo_home/site/short"
for part in core lib runtime; do
	ln -s "/usr/lib/perl6/$part" "$rakudo_home/$part"
done
cp /usr/lib/perl6/site/version "$rakudo_home/site/"
ln -s "$root/usr/share/perl6/vendor" "$rakudo_home/vendor"

# makepkg's own dependency check ($PACMAN -T) asks about the root. pacman wants a cache it
# may write to, or it warns in every build log: the root's is not the build user's.
printf '#!/bin/bash\nexec pacman %s --cachedir=%q "$@"\n' "${pacman_args[*]@Q}" "$scratch/tmp" >"$work/pacman"
chmod 755 "$work/pacman"

cp -r ./. "$work/pkg/"
if ((EUID == 0)); then
	chown -R "$build_user:" "$work/pkg" "$scratch"
fi
# On Arch the build user cannot write to /usr, nor here; nor to HOME.
find "$root" "$rakudo_home" "$home" -type d -exec chmod a-w {} +

status=0
(
	cd "$work/pkg"
	exec "${unprivileged[@]}" env -i \
		PATH="$farm/bin:/usr/bin:/bin" LC_ALL=C.UTF-8 HOME="$home" TMPDIR="$scratch/tmp" \
		MAKEPKG_CONF="$farm/makepkg.conf" PACMAN="$work/pacman" RAKUDO_HOME="$rakudo_home" \
		BUILDDIR="$scratch/build" SRCDEST="$scratch/build" LOGDEST="$scratch/build" \
		PKGDEST="$scratch/out" SRCPKGDEST="$scratch/out" \
		makepkg --cleanbuild --noconfirm --noprogressbar --nocolor
) || status=$?
if ((status != 0)); then
	printf 'raku-aur-test-builder: makepkg failed with status %s\n' "$status" >&2
	exit "$status"
fi

shopt -s nullglob
built=("$scratch/out"/*.pkg.tar*)
((${#built[@]})) || fail "makepkg made no package file"
cp -- "${built[@]}" "$PKGDEST/"
"#;

/// Prints the version of `rakudo` in the system repository, as pacman sees it.
const RAKUDO_VERSION_SCRIPT: &str = r#"set -euo pipefail
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
args=(--root="$db" --dbpath="$db" --cachedir="$db/cache" --logfile="$db/pacman.log"
	--gpgdir="$db/gnupg" --config=@FARM@/system.conf)
if ((EUID == 0)); then
	pacman "${args[@]}" -Sy >/dev/null
else
	fakeroot pacman "${args[@]}" -Sy >/dev/null
fi
pacman "${args[@]}" -Sddp --print-format %v rakudo
"#;

/// The world the builds run in, under one directory.
pub struct BuildFarm {
    dir: PathBuf,
}

/// `s` quoted for bash.
fn quoted(s: &Path) -> String {
    format!("'{}'", s.display().to_string().replace('\'', r"'\''"))
}

/// `program` as root, or under fakeroot when the tests run unprivileged.
fn privileged(program: &str) -> Command {
    if as_root() {
        Command::new(program)
    } else {
        let mut command = Command::new("fakeroot");
        command.arg(program);
        command
    }
}

/// `root`'s pacman options: its own database, cache, log, keyring and `etc/pacman.conf`.
fn pacman_args(root: &Path) -> Vec<String> {
    let at = |rel: &str| root.join(rel).display().to_string();
    vec![
        format!("--root={}", root.display()),
        format!("--dbpath={}", at("var/lib/pacman")),
        format!("--cachedir={}", at("var/cache/pacman/pkg")),
        format!("--logfile={}", at("var/log/pacman.log")),
        format!("--gpgdir={}", at("etc/pacman.d/gnupg")),
        format!("--config={}", at("etc/pacman.conf")),
    ]
}

/// The package files (`*.pkg.tar*`, not signatures) in `dir`, sorted.
/// A directory under /tmp that the build user can reach.
pub fn test_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("raku-aur-farm-")
        .tempdir_in("/tmp")
        .expect("create the test directory");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `raku-aur --config CONFIG build` over the layout the build suites share: `DIR/index.json`,
/// `DIR/aur.json`, `DIR/state`, `DIR/cache`, the archives served by `http`. No config file of
/// this machine applies.
pub fn build_command(dir: &Path, config: &Path, http: &TestServer) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raku-aur"));
    command
        .env("XDG_CONFIG_HOME", dir.join("no-config"))
        .arg("--config")
        .arg(config)
        .arg("build")
        .arg("--index")
        .arg(dir.join("index.json"))
        .arg("--state")
        .arg(dir.join("state"))
        .arg("--cache")
        .arg(dir.join("cache"))
        .arg("--aur-metadata")
        .arg(dir.join("aur.json"))
        .args([
            "--aur-user",
            "raku-bot",
            "--maintainer",
            "Farm <farm@example.org>",
        ])
        .arg("--mirror")
        .arg(format!("{REA_ARCHIVE_PREFIX}={}", http.base_url()));
    command
}

/// The `name-version` entries of a repository database, sorted.
pub fn database(db: &Path) -> Vec<String> {
    let listing = Command::new("bsdtar").arg("-tf").arg(db).output().unwrap();
    assert!(listing.status.success(), "{}", text(&listing));
    let mut names: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix('/'))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

pub fn package_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.contains(".pkg.tar") && !name.ends_with(".sig")
        })
        .collect();
    files.sort();
    files
}

impl BuildFarm {
    /// Sets the farm up in `dir` (created; it must be reachable by the build user, so under
    /// /tmp): the build user's tools, a makepkg.conf fetching REA's URLs from `http`, the
    /// builder, and the system repository with the stubs of [`STUBS`], rakudo at
    /// [`RAKUDO_VERSION`] (the other stubs share that version: nothing reads theirs).
    pub fn new(dir: &Path, http: &TestServer) -> BuildFarm {
        for d in ["", "bin", "builds", "system-repo", "stubs"] {
            fs::create_dir_all(dir.join(d)).unwrap();
            fs::set_permissions(dir.join(d), fs::Permissions::from_mode(0o755)).unwrap();
        }
        let farm = BuildFarm {
            dir: dir.to_path_buf(),
        };
        let bin = dir.join("bin");
        arch::write_install_dist(&bin);
        arch::write_mirror_makepkg_conf(&bin, &dir.join("makepkg.conf"), http);
        fs::write(
            dir.join("system.conf"),
            format!(
                "[options]\nArchitecture = auto\n\n[{SYSTEM_REPO}]\nSigLevel = Never\nServer = file://{}\n",
                dir.join("system-repo").display()
            ),
        )
        .unwrap();
        let farm_path = quoted(dir);
        write_script(
            &bin.join("raku-aur-test-builder"),
            &BUILDER
                .replace("@FARM@", &farm_path)
                .replace("@BUILD_USER@", TEST_USER)
                .replace("@SYSTEM_REPO@", SYSTEM_REPO),
        );
        write_script(
            &bin.join("raku-aur-test-rakudo-version"),
            &RAKUDO_VERSION_SCRIPT.replace("@FARM@", &farm_path),
        );
        // As root, creates the build user the builder runs makepkg as.
        arch::build_ids();
        farm.add_stubs("initial", &STUBS, RAKUDO_VERSION);
        farm
    }

    /// The path of `name` in the farm's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The argv for `[build] command`.
    pub fn builder_argv(&self) -> Vec<String> {
        vec![self.path("bin/raku-aur-test-builder").display().to_string()]
    }

    /// A command printing the `<pkgver>-<pkgrel>` of `rakudo` in the system repository.
    pub fn rakudo_version_argv(&self) -> Vec<String> {
        vec![
            self.path("bin/raku-aur-test-rakudo-version")
                .display()
                .to_string(),
        ]
    }

    /// Puts `rakudo` at `pkgver` (pkgrel 1) into the system repository, replacing the one
    /// there: what an upgrade of Arch's rakudo looks like to the farm.
    pub fn set_rakudo_version(&self, pkgver: &str) {
        let rakudo = STUBS.iter().find(|(name, _)| *name == "rakudo").unwrap();
        self.add_stubs(&format!("rakudo-{pkgver}"), &[*rakudo], pkgver);
    }

    /// Builds `stubs` at `pkgver` with the builder (in `stubs/<name>`) and adds them to the
    /// system repository.
    fn add_stubs(&self, name: &str, stubs: &[(&str, &str)], pkgver: &str) {
        let packages = self.path("stubs").join(name);
        let out = packages.join("out");
        fs::create_dir_all(&out).unwrap();
        let pkg = arch::write_stubs_at(&packages, stubs, pkgver, None);
        // The builder installs what .SRCINFO declares: stubs need nothing.
        fs::write(pkg.join(".SRCINFO"), "pkgbase = stand-ins\n").unwrap();
        let built = self.build(&pkg, &out, &packages.join("no-repo"), "none");
        assert!(built.status.success(), "stubs:\n{}", text(&built));
        let mut added = Vec::new();
        for file in package_files(&out) {
            let dest = self.path("system-repo").join(file.file_name().unwrap());
            fs::copy(&file, &dest).unwrap();
            added.push(dest);
        }
        run(Command::new("repo-add")
            .args(["-q", "-R"])
            .arg(
                self.path("system-repo")
                    .join(format!("{SYSTEM_REPO}.db.tar.gz")),
            )
            .args(&added));
    }

    /// Runs the builder as the bot does: in `pkg_dir`, with `PKGDEST=pkgdest` and the bot's
    /// repository at `repo_dir` named `repo_name`.
    pub fn build(
        &self,
        pkg_dir: &Path,
        pkgdest: &Path,
        repo_dir: &Path,
        repo_name: &str,
    ) -> Output {
        let argv = self.builder_argv();
        Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(pkg_dir)
            .env("PKGDEST", pkgdest)
            .env("RAKU_AUR_REPO", format!("file://{}", repo_dir.display()))
            .env("RAKU_AUR_REPO_NAME", repo_name)
            .output()
            .expect("start the builder")
    }

    /// Installs `packages` with `pacman -Sy` into a fresh client root `root` (created) that
    /// syncs from the system repository and from `repo_dir` as `repo_name`. With `key`, that
    /// repository's SigLevel is `Required` and the root's keyring trusts only `key`. Returns
    /// pacman's output.
    pub fn install_from_repo(
        &self,
        root: &Path,
        repo_dir: &Path,
        repo_name: &str,
        key: Option<&SigningKey>,
        packages: &[&str],
    ) -> Output {
        for d in ["var/lib/pacman", "var/cache/pacman/pkg", "etc/pacman.d"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        let sig_level = if key.is_some() { "Required" } else { "Never" };
        fs::write(
            root.join("etc/pacman.conf"),
            format!(
                "[options]\nArchitecture = auto\n\n\
                 [{SYSTEM_REPO}]\nSigLevel = Never\nServer = file://{}\n\n\
                 [{repo_name}]\nSigLevel = {sig_level}\nServer = file://{}\n",
                self.path("system-repo").display(),
                repo_dir.display()
            ),
        )
        .unwrap();
        if let Some(key) = key {
            let gpgdir = root.join("etc/pacman.d/gnupg");
            let public = key.public_asc.display().to_string();
            for args in [
                vec!["--init"],
                vec!["--add", &public],
                vec!["--lsign-key", &key.fingerprint],
            ] {
                // pacman-key refuses these unless EUID is 0: fakeroot's is.
                run(privileged("pacman-key")
                    .arg("--gpgdir")
                    .arg(&gpgdir)
                    .args(args));
            }
            // --init and --lsign-key start an agent for that keyring.
            run(Command::new("gpgconf")
                .args(["--kill", "all"])
                .env("GNUPGHOME", &gpgdir));
        }
        privileged("pacman")
            .args(pacman_args(root))
            .args(["-Sy", "--noconfirm"])
            .args(packages)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("start pacman")
    }
}

/// The version of `name` installed in the client root `root` (see
/// [`BuildFarm::install_from_repo`]), if it is installed.
pub fn pacman_query(root: &Path, name: &str) -> Option<String> {
    let output = Command::new("pacman")
        .args(pacman_args(root))
        .args(["-Q", name])
        .output()
        .expect("start pacman");
    let line = String::from_utf8_lossy(&output.stdout);
    output.status.success().then(|| {
        line.split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    })
}

/// A GnuPG signing key in its own GNUPGHOME, for signing a repository and its packages.
pub struct SigningKey {
    pub gnupghome: PathBuf,
    pub fingerprint: String,
    /// The public key, ASCII-armoured.
    pub public_asc: PathBuf,
}

impl SigningKey {
    /// A fresh ed25519 signing key without passphrase in `dir/gnupg`, valid for a year.
    pub fn generate(dir: &Path) -> SigningKey {
        SigningKey::generate_with(dir, &[], "1y")
    }

    /// A key that expired long ago: made a day before its expiry, in 2020.
    pub fn generate_expired(dir: &Path) -> SigningKey {
        SigningKey::generate_with(dir, &["--faked-system-time", "20200101T000000!"], "1d")
    }

    fn generate_with(dir: &Path, time: &[&str], expiry: &str) -> SigningKey {
        let gnupghome = dir.join("gnupg");
        fs::create_dir_all(&gnupghome).unwrap();
        fs::set_permissions(&gnupghome, fs::Permissions::from_mode(0o700)).unwrap();
        let mut key = SigningKey {
            gnupghome,
            fingerprint: String::new(),
            public_asc: dir.join("public.asc"),
        };
        run(key
            .gpg()
            .args(time)
            .args(["--passphrase", "", "--quick-gen-key"])
            .args([
                "raku-aur test <raku-aur-test@localhost>",
                "ed25519",
                "sign",
                expiry,
            ]));
        let listed = run(key.gpg().args(["--with-colons", "--list-secret-keys"]));
        key.fingerprint = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').nth(8))
            .expect("a fingerprint")
            .to_string();
        let public = run(key.gpg().args(["--armor", "--export", &key.fingerprint]));
        fs::write(&key.public_asc, public.stdout).unwrap();
        key
    }

    /// gpg on this key's GNUPGHOME, non-interactive.
    pub fn gpg(&self) -> Command {
        let mut command = Command::new("gpg");
        command.env("GNUPGHOME", &self.gnupghome).arg("--batch");
        command
    }

    /// `gpg --detach-sign` of `file` into `file.sig`, as pacman expects it next to a package.
    pub fn detach_sign(&self, file: &Path) -> Output {
        self.gpg()
            .args(["--yes", "--detach-sign", "-u", &self.fingerprint])
            .arg(file)
            .output()
            .expect("start gpg")
    }

    /// Signs `packages` and adds them to the repository `repo_dir/<name>.db.tar.gz`, signing
    /// its database too (`repo-add -s -k`), as the bot's publishing step does.
    pub fn add_signed(&self, repo_dir: &Path, name: &str, packages: &[PathBuf]) {
        fs::create_dir_all(repo_dir).unwrap();
        let mut added = Vec::new();
        for file in packages {
            let dest = repo_dir.join(file.file_name().unwrap());
            fs::copy(file, &dest).unwrap();
            let signed = self.detach_sign(&dest);
            assert!(signed.status.success(), "sign:\n{}", text(&signed));
            added.push(dest);
        }
        run(Command::new("repo-add")
            .args(["-q", "-R", "-s", "-k", &self.fingerprint])
            .arg(repo_dir.join(format!("{name}.db.tar.gz")))
            .args(&added)
            .env("GNUPGHOME", &self.gnupghome));
    }
}

impl Drop for SigningKey {
    /// The agent gpg started for this GNUPGHOME would outlive the test.
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", &self.gnupghome)
            .output();
    }
}
