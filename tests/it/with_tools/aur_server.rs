//! Tests of the test AUR server itself (tests/common/sshd.rs), with the git and
//! ssh command-line clients, so that its behaviour is checked independently of
//! the crate's own git client.

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;
use common::sshd::{self, AurServer, BOT_ACCOUNT};
use tempfile::TempDir;

/// A git user with its own HOME, so the machine's git and ssh settings don't matter.
struct Client {
    home: TempDir,
    ssh: String,
}

impl Client {
    fn new(server: &AurServer) -> Client {
        let home = tempfile::tempdir().expect("client home");
        // safe.directory: as root, the server's bare repositories belong to
        // another account, and tests inspect them directly.
        fs::write(
            home.path().join(".gitconfig"),
            "[init]\n\tdefaultBranch = master\n[safe]\n\tdirectory = *\n",
        )
        .expect("write .gitconfig");
        Client {
            home,
            ssh: server.git_ssh_command(),
        }
    }

    fn command(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env("HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_SSH_COMMAND", &self.ssh)
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.invalid")
            .env("LC_ALL", "C")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("SSH_AUTH_SOCK");
        cmd
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        self.command("git", dir)
            .args(args)
            .output()
            .expect("run git")
    }

    /// Runs git and returns its stdout, panicking with everything useful if it fails.
    fn git_ok(&self, server: &AurServer, dir: &Path, args: &[&str]) -> String {
        let out = self.git(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}\nsshd log:\n{}",
            text(&out),
            server.log()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Clones `pkgbase` into a new directory under this client's home.
    fn clone(&self, server: &AurServer, pkgbase: &str) -> PathBuf {
        let url = server.remote_template().replace("{pkgbase}", pkgbase);
        let dir = self.home.path().join(format!("clone-{}", unique()));
        self.git_ok(
            server,
            self.home.path(),
            &["clone", "-q", &url, dir.to_str().expect("utf-8 path")],
        );
        dir
    }

    fn push(&self, dir: &Path, args: &[&str]) -> Output {
        let mut full = vec!["push", "origin"];
        full.extend_from_slice(args);
        self.git(dir, &full)
    }
}

/// A counter for distinct directory names within one test.
fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// stdout and stderr together, for messages and `remote:` lines.
fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts that a push was refused by the hook with `reason`.
fn assert_refused(server: &AurServer, out: &Output, reason: &str) {
    let all = text(out);
    assert!(!out.status.success(), "push was accepted:\n{all}");
    assert!(
        all.contains(&format!("remote: error: {reason}")),
        "expected `remote: error: {reason}` in:\n{all}\nsshd log:\n{}",
        server.log()
    );
}

fn pkgbuild(pkgbase: &str, version: &str) -> String {
    format!(
        "pkgname={pkgbase}\npkgver={version}\npkgrel=1\npkgdesc='A test package'\n\
         arch=(any)\nlicense=(Artistic-2.0)\nsource=(fix.patch)\nsha256sums=(SKIP)\n"
    )
}

fn srcinfo(pkgbase: &str, version: &str) -> String {
    format!(
        "pkgbase = {pkgbase}\n\tpkgdesc = A test package\n\tpkgver = {version}\n\
         \tpkgrel = 1\n\tarch = any\n\tlicense = Artistic-2.0\n\tsource = fix.patch\n\
         \tsha256sums = SKIP\n\npkgname = {pkgbase}\n"
    )
}

/// Writes `files` into the work tree and commits everything.
fn commit(client: &Client, server: &AurServer, dir: &Path, files: &[(&str, &[u8])], msg: &str) {
    for (name, content) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, content).expect("write file");
    }
    client.git_ok(server, dir, &["add", "-A"]);
    client.git_ok(server, dir, &["commit", "-q", "-m", msg]);
}

/// Commits a complete, valid package at `version`.
fn commit_package(client: &Client, server: &AurServer, dir: &Path, pkgbase: &str, version: &str) {
    let (build, info) = (pkgbuild(pkgbase, version), srcinfo(pkgbase, version));
    commit(
        client,
        server,
        dir,
        &[
            ("PKGBUILD", build.as_bytes()),
            (".SRCINFO", info.as_bytes()),
            ("fix.patch", b"--- a\n+++ b\n"),
        ],
        &format!("{pkgbase} {version}"),
    );
}

fn bare_head(client: &Client, server: &AurServer, pkgbase: &str) -> String {
    let repo = server.bare_repo(pkgbase);
    client.git_ok(
        server,
        &repo,
        &[
            "--git-dir",
            repo.to_str().expect("utf-8"),
            "rev-parse",
            "master",
        ],
    )
}

#[test]
fn new_package_clones_empty_and_first_push_lands() {
    let server = sshd::start();
    let alice = Client::new(&server);
    let work = alice.clone(&server, "raku-foo");
    assert!(server.bare_repo("raku-foo").join("HEAD").is_file());
    assert!(
        !alice
            .git(&work, &["rev-parse", "--verify", "HEAD"])
            .status
            .success(),
        "a new package should clone as an empty repository"
    );

    commit_package(&alice, &server, &work, "raku-foo", "1.0");
    let out = alice.push(&work, &["master"]);
    assert!(out.status.success(), "first push refused:\n{}", text(&out));
    let head = alice.git_ok(&server, &work, &["rev-parse", "HEAD"]);
    assert_eq!(bare_head(&alice, &server, "raku-foo"), head);

    // A fast-forward on top is accepted too.
    commit_package(&alice, &server, &work, "raku-foo", "1.1");
    let out = alice.push(&work, &["master"]);
    assert!(out.status.success(), "second push refused:\n{}", text(&out));
    let head = alice.git_ok(&server, &work, &["rev-parse", "HEAD"]);
    assert_eq!(bare_head(&alice, &server, "raku-foo"), head);

    let bob = Client::new(&server);
    let copy = bob.clone(&server, "raku-foo");
    assert_eq!(bob.git_ok(&server, &copy, &["rev-parse", "HEAD"]), head);
    assert_eq!(
        fs::read_to_string(copy.join(".SRCINFO")).expect(".SRCINFO"),
        srcinfo("raku-foo", "1.1")
    );
}

#[test]
fn path_forms_are_accepted_and_bad_names_refused() {
    let server = sshd::start();
    let client = Client::new(&server);
    let target = format!("{}@127.0.0.1", server.user());
    for path in ["'/raku-a.git'", "/raku-b.git", "raku-c", "'raku-d.git'"] {
        let out = client
            .command("sh", client.home.path())
            .arg("-c")
            .arg(format!(
                "printf 0000 | {} {target} \"git-upload-pack {path}\"",
                server.git_ssh_command()
            ))
            .output()
            .expect("run ssh");
        // A flush packet ends the conversation right after the ref advertisement.
        assert!(out.status.success(), "{path}: {}", text(&out));
    }
    for name in ["raku-a", "raku-b", "raku-c", "raku-d"] {
        assert!(server.bare_repo(name).is_dir(), "{name} not created");
    }
    for path in [
        "'/Raku-Foo.git'",
        "'/../x.git'",
        "'/a/b.git'",
        "'/.hidden.git'",
    ] {
        let out = client
            .command("sh", client.home.path())
            .arg("-c")
            .arg(format!(
                "{} {target} \"git-receive-pack {path}\"",
                server.git_ssh_command()
            ))
            .output()
            .expect("run ssh");
        assert!(!out.status.success(), "{path} accepted");
        assert!(
            text(&out).contains("error: invalid repository name"),
            "{path}: {}",
            text(&out)
        );
    }
}

#[test]
fn commit_without_pkgbuild_is_refused_even_below_head() {
    let server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    commit(
        &client,
        &server,
        &work,
        &[("README", b"hi\n")],
        "no PKGBUILD yet",
    );
    let first = client.git_ok(&server, &work, &["rev-parse", "HEAD"]);
    commit_package(&client, &server, &work, "raku-foo", "1.0");
    let out = client.push(&work, &["master"]);
    assert_refused(&server, &out, "missing PKGBUILD");
    assert!(text(&out).contains(&format!("remote: error: {first}:")));
    assert!(
        !server
            .bare_repo("raku-foo")
            .join("refs/heads/master")
            .exists()
    );
}

#[test]
fn subdirectories_are_refused_except_pgp_keys_and_licenses() {
    let server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    commit_package(&client, &server, &work, "raku-foo", "1.0");
    commit(
        &client,
        &server,
        &work,
        &[
            ("keys/pgp/ABCDEF.asc", b"key\n"),
            ("LICENSES/LicenseRef-Foo.txt", b"text\n"),
        ],
        "allowed subdirectories",
    );
    let out = client.push(&work, &["master"]);
    assert!(
        out.status.success(),
        "allowed layout refused:\n{}",
        text(&out)
    );

    for bad in [
        "src/lib.rakumod",
        "keys/pgp/sub/ABCDEF.asc",
        "keys/other.asc",
    ] {
        commit(&client, &server, &work, &[(bad, b"x\n")], bad);
        let out = client.push(&work, &["master"]);
        assert_refused(
            &server,
            &out,
            "the repository must not contain subdirectories",
        );
        client.git_ok(&server, &work, &["reset", "-q", "--hard", "HEAD~"]);
    }
}

#[test]
fn oversized_blob_is_refused() {
    let server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    commit_package(&client, &server, &work, "raku-foo", "1.0");
    commit(
        &client,
        &server,
        &work,
        &[("big.bin", &[b'x'; 300_000])],
        "big",
    );
    let out = client.push(&work, &["master"]);
    assert_refused(&server, &out, "maximum blob size (250.00KiB) exceeded");

    // Exactly at the limit is fine.
    client.git_ok(&server, &work, &["reset", "-q", "--hard", "HEAD~"]);
    commit(
        &client,
        &server,
        &work,
        &[("big.bin", &[b'x'; 256_000])],
        "at limit",
    );
    let out = client.push(&work, &["master"]);
    assert!(
        out.status.success(),
        "256000 bytes refused:\n{}",
        text(&out)
    );
}

#[test]
fn srcinfo_must_exist_at_head_and_name_the_repository() {
    let server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    let build = pkgbuild("raku-foo", "1.0");
    commit(
        &client,
        &server,
        &work,
        &[("PKGBUILD", build.as_bytes()), ("fix.patch", b"p\n")],
        "no .SRCINFO",
    );
    let out = client.push(&work, &["master"]);
    assert_refused(&server, &out, "missing .SRCINFO");

    let wrong = srcinfo("raku-bar", "1.0");
    commit(
        &client,
        &server,
        &work,
        &[(".SRCINFO", wrong.as_bytes())],
        "bar",
    );
    let out = client.push(&work, &["master"]);
    assert_refused(
        &server,
        &out,
        "invalid pkgbase: raku-bar, expected raku-foo",
    );

    // Only the new head needs .SRCINFO: the first commit may go without it.
    let right = srcinfo("raku-foo", "1.0");
    commit(
        &client,
        &server,
        &work,
        &[(".SRCINFO", right.as_bytes())],
        "foo",
    );
    let out = client.push(&work, &["master"]);
    assert!(out.status.success(), "valid head refused:\n{}", text(&out));
}

#[test]
fn local_source_files_must_be_in_the_tree() {
    let server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    let info = srcinfo("raku-foo", "1.0").replace(
        "\tsource = fix.patch\n",
        "\tsource = https://example.invalid/foo.tar.gz\n\tsource = fix.patch\n\
         \tsource_x86_64 = other.patch\n",
    );
    let build = pkgbuild("raku-foo", "1.0");
    commit(
        &client,
        &server,
        &work,
        &[
            ("PKGBUILD", build.as_bytes()),
            (".SRCINFO", info.as_bytes()),
            ("fix.patch", b"p\n"),
        ],
        "other.patch missing",
    );
    let out = client.push(&work, &["master"]);
    assert_refused(&server, &out, "missing source file: other.patch");

    commit(
        &client,
        &server,
        &work,
        &[("other.patch", b"p\n")],
        "add it",
    );
    let out = client.push(&work, &["master"]);
    assert!(
        out.status.success(),
        "complete sources refused:\n{}",
        text(&out)
    );
}

#[test]
fn only_master_may_be_pushed_and_not_deleted() {
    let server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    commit_package(&client, &server, &work, "raku-foo", "1.0");
    let out = client.push(&work, &["master:refs/heads/dev"]);
    assert_refused(
        &server,
        &out,
        "pushing to a branch other than master is restricted",
    );

    let out = client.push(&work, &["master"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = client.push(&work, &[":master"]);
    assert_refused(&server, &out, "deleting the master branch is not allowed");
}

#[test]
fn someone_pushing_in_between_makes_a_push_non_fast_forward() {
    let server = sshd::start();
    let alice = Client::new(&server);
    let bob = Client::new(&server);
    let work = alice.clone(&server, "raku-foo");
    commit_package(&alice, &server, &work, "raku-foo", "1.0");
    assert!(alice.push(&work, &["master"]).status.success());

    let theirs = bob.clone(&server, "raku-foo");
    commit_package(&bob, &server, &theirs, "raku-foo", "2.0");
    assert!(bob.push(&theirs, &["master"]).status.success());
    let bobs_head = bare_head(&bob, &server, "raku-foo");

    commit_package(&alice, &server, &work, "raku-foo", "1.1");
    // git itself refuses first; forcing gets the push to the server's hook.
    let out = alice.push(&work, &["master"]);
    assert!(!out.status.success());
    let out = alice.push(&work, &["--force", "master"]);
    assert_refused(
        &server,
        &out,
        "denying non-fast-forward (you should pull first)",
    );
    assert_eq!(bare_head(&alice, &server, "raku-foo"), bobs_head);
}

#[test]
fn packages_owned_by_someone_else_are_refused() {
    let server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    commit_package(&client, &server, &work, "raku-foo", "1.0");

    server.set_owner("raku-foo", "someone-else");
    server.set_owner("raku-other", BOT_ACCOUNT);
    let out = client.push(&work, &["master"]);
    assert_refused(&server, &out, "You are not allowed to push to raku-foo");

    server.set_owner("raku-foo", BOT_ACCOUNT);
    let out = client.push(&work, &["master"]);
    assert!(out.status.success(), "own package refused:\n{}", text(&out));
}

#[test]
fn refuse_all_switch() {
    let server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    commit_package(&client, &server, &work, "raku-foo", "1.0");

    server.set_refuse_all(true);
    let out = client.push(&work, &["master"]);
    assert_refused(&server, &out, "the AUR refuses all pushes right now");

    server.set_refuse_all(false);
    let out = client.push(&work, &["master"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn set_keywords_is_logged_and_other_commands_fail() {
    let server = sshd::start();
    let client = Client::new(&server);
    let run = |command: &str| {
        client
            .command("sh", client.home.path())
            .arg("-c")
            .arg(format!(
                "{} {}@127.0.0.1 {command}",
                server.git_ssh_command(),
                server.user()
            ))
            .output()
            .expect("run ssh")
    };

    let out = run("set-keywords raku-foo raku perl6");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(text(&out), "");
    assert_eq!(server.keywords_log(), "raku-foo raku perl6\n");

    let out = run("frobnicate raku-foo");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("error: invalid command: frobnicate"));
    let out = run("set-keywords ../etc raku");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(server.keywords_log(), "raku-foo raku perl6\n");
}

/// `ssh ... set-keywords raku-foo x` with an explicit key and known_hosts file and
/// `options`, else like git_ssh_command.
fn ssh_with(server: &AurServer, key: &Path, known_hosts: &Path, options: &[&str]) -> Command {
    let mut cmd = Command::new("ssh");
    cmd.args(options)
        .args(["-F", "/dev/null", "-i"])
        .arg(key)
        .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args(["-o", "GlobalKnownHostsFile=/dev/null"])
        .args(["-o", "StrictHostKeyChecking=yes", "-p"])
        .arg(server.port().to_string())
        .arg(format!("{}@127.0.0.1", server.user()))
        .args(["set-keywords", "raku-foo", "x"])
        .env_remove("SSH_AUTH_SOCK");
    cmd
}

#[test]
fn host_key_pin_and_client_key_are_checked() {
    let server = sshd::start();
    let scratch = tempfile::tempdir().expect("scratch dir");

    // The key is the test process's own and private, as ssh insists.
    let key = fs::metadata(server.client_key()).expect("client key");
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    let mine = scratch.path().join("probe");
    fs::write(&mine, "").expect("probe file");
    assert_eq!(key.uid(), fs::metadata(&mine).expect("probe").uid());

    let pinned = scratch.path().join("pinned");
    fs::write(&pinned, format!("{}\n", server.known_hosts_line())).expect("known_hosts");
    let out = ssh_with(&server, &server.client_key(), &pinned, &["-v"])
        .output()
        .expect("ssh");
    assert!(out.status.success(), "{}\n{}", text(&out), server.log());
    assert!(
        text(&out).contains(&format!(
            "Server host key: ssh-ed25519 {}",
            server.host_key_fingerprint()
        )),
        "fingerprint {} not presented:\n{}",
        server.host_key_fingerprint(),
        text(&out)
    );

    // Pin another key (the client's public key) for the same host and port.
    let client_public =
        fs::read_to_string(server.client_key().with_extension("pub")).expect("client .pub");
    let wrong = scratch.path().join("wrong");
    let key_part: Vec<&str> = client_public.split_whitespace().take(2).collect();
    fs::write(
        &wrong,
        format!("[127.0.0.1]:{} {}\n", server.port(), key_part.join(" ")),
    )
    .expect("known_hosts");
    let out = ssh_with(&server, &server.client_key(), &wrong, &[])
        .output()
        .expect("ssh");
    assert_eq!(out.status.code(), Some(255));
    assert!(
        text(&out).contains("Host key verification failed"),
        "{}",
        text(&out)
    );

    let stranger = scratch.path().join("stranger");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "ed25519", "-f"])
        .arg(&stranger)
        .output()
        .expect("ssh-keygen");
    assert!(keygen.status.success());
    let out = ssh_with(&server, &stranger, &pinned, &[])
        .output()
        .expect("ssh");
    assert_eq!(out.status.code(), Some(255));
    assert!(
        text(&out).contains("Permission denied (publickey)"),
        "{}",
        text(&out)
    );
    assert_eq!(server.keywords_log(), "raku-foo x\n");
}

#[test]
fn stop_and_restart_keep_port_and_data() {
    let mut server = sshd::start();
    let client = Client::new(&server);
    let work = client.clone(&server, "raku-foo");
    commit_package(&client, &server, &work, "raku-foo", "1.0");
    assert!(client.push(&work, &["master"]).status.success());
    let port = server.port();

    server.stop();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    let out = client.git(&work, &["ls-remote", "origin"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("Connection refused"), "{}", text(&out));

    server.restart();
    assert_eq!(server.port(), port);
    let head = client.git_ok(&server, &work, &["rev-parse", "HEAD"]);
    let remote = client.git_ok(&server, &work, &["ls-remote", "origin", "master"]);
    assert!(remote.starts_with(&head), "{remote}");
}

#[test]
fn login_account_is_never_root() {
    let server = sshd::start();
    let me = Command::new("id").arg("-un").output().expect("id");
    let me = String::from_utf8_lossy(&me.stdout).trim().to_owned();
    if me == "root" {
        assert_eq!(server.user(), "raku-aur-git");
    } else {
        assert_eq!(server.user(), me);
    }
    assert_eq!(
        server.remote_template(),
        format!(
            "ssh://{}@127.0.0.1:{}/{{pkgbase}}.git",
            server.user(),
            server.port()
        )
    );
}
