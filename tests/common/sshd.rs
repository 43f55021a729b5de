//! A stand-in for the AUR's git-over-ssh server, for integration tests.
//!
//! [`start`] runs a private `/usr/sbin/sshd` on 127.0.0.1 with its own host key and
//! one authorized client key. That key's forced command (`aur-hook/aur-shell.sh`)
//! serves `ssh://<user>@127.0.0.1:<port>/<pkgbase>.git` from bare repositories,
//! creating them on first use as the AUR does, and a pre-receive hook
//! (`aur-hook/pre-receive.sh`) enforces the AUR's push rules. Everything lives in
//! a temporary directory that goes away with the [`AurServer`].
//!
//! Layout of that directory: the keys, `sshd_config`, `sshd.log`, `known_hosts`,
//! `owners` and the `refuse-all` switch belong to the test process; `bin/` holds
//! the two scripts; `srv/` (repositories and `keywords.log`) belongs to the login
//! account, which runs the forced command and the hook.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The AUR account the bot pushes as: packages [`AurServer::set_owner`] gives to
/// anyone else are refused.
pub const BOT_ACCOUNT: &str = "raku-aur-bot";

/// The login account used when the tests run as root, so that the forced command
/// and the hook never run as root.
const ROOT_MODE_ACCOUNT: &str = "raku-aur-git";
const ROOT_MODE_HOME: &str = "/var/lib/raku-aur-git";

/// Embedded so that the scripts are copied to a place the login account can read,
/// whatever the permissions of the source tree.
const AUR_SHELL: &str = include_str!("aur-hook/aur-shell.sh");
const PRE_RECEIVE: &str = include_str!("aur-hook/pre-receive.sh");

const SSHD: &str = "/usr/sbin/sshd";
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A running test AUR server. Dropping it kills sshd and deletes everything.
pub struct AurServer {
    dir: TempDir,
    account: Account,
    port: u16,
    sshd: Option<Child>,
    host_key_fingerprint: String,
}

/// The Unix account sshd logs the client in as.
struct Account {
    name: String,
    /// Set when running as root: the files the account writes must be chowned to it.
    ids: Option<(u32, u32)>,
}

enum Launch {
    Ready,
    PortTaken,
}

/// Starts a server on a free port and waits until it accepts connections.
pub fn start() -> AurServer {
    let root = command_output(Command::new("id").arg("-u")) == "0";
    let account = if root {
        dedicated_account()
    } else {
        // A non-root sshd can only log in the user it runs as.
        Account {
            name: command_output(Command::new("id").arg("-un")),
            ids: None,
        }
    };

    // As root, the login account must be able to traverse every parent of the
    // directory, which $TMPDIR does not promise but /tmp does.
    let parent = if root {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir()
    };
    let dir = tempfile::Builder::new()
        .prefix("aur-sshd-")
        .tempdir_in(parent)
        .expect("create the server's temporary directory");
    let d = dir.path();
    set_mode(d, 0o755);

    for key in ["host_key", "client_key"] {
        command_output(
            Command::new("ssh-keygen")
                .args(["-q", "-N", "", "-t", "ed25519", "-C", key, "-f"])
                .arg(d.join(key)),
        );
    }
    let fingerprint_line = command_output(
        Command::new("ssh-keygen")
            .arg("-lf")
            .arg(d.join("host_key.pub")),
    );
    let host_key_fingerprint = fingerprint_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected ssh-keygen -lf output: {fingerprint_line}"))
        .to_owned();

    fs::create_dir(d.join("bin")).expect("create bin/");
    for (name, text) in [("aur-shell.sh", AUR_SHELL), ("pre-receive.sh", PRE_RECEIVE)] {
        let path = d.join("bin").join(name);
        fs::write(&path, text).expect("write a hook script");
        set_mode(&path, 0o755);
    }
    write_readable(&d.join("owners"), "");
    // `adopt` and `disown` change owners as the AUR's account records do.
    account.give(&d.join("owners"));

    for sub in ["srv", "srv/repos"] {
        fs::create_dir(d.join(sub)).expect("create srv/");
        account.give(&d.join(sub));
    }
    for log in ["srv/keywords.log", "srv/actions.log", "srv/flags"] {
        write_readable(&d.join(log), "");
        account.give(&d.join(log));
    }

    let client_public = fs::read_to_string(d.join("client_key.pub")).expect("read client key");
    write_readable(
        &d.join("authorized_keys"),
        &format!(
            "command=\"{shell} {dir} {BOT_ACCOUNT}\",no-pty,no-port-forwarding,\
             no-agent-forwarding,no-X11-forwarding {client_public}",
            shell = d.join("bin/aur-shell.sh").display(),
            dir = d.display(),
        ),
    );

    if root {
        // sshd running as root refuses to start without its privilege separation
        // directory; a non-root sshd does not use it.
        fs::create_dir_all("/run/sshd").expect("create /run/sshd");
    }

    let mut server = AurServer {
        dir,
        account,
        port: 0,
        sshd: None,
        host_key_fingerprint,
    };
    // The port is free when we look but another process may take it before sshd
    // binds it: try again with another one.
    for _ in 0..5 {
        if let Launch::Ready = server.launch(free_port()) {
            return server;
        }
    }
    panic!("sshd found no free port\n{}", server.log());
}

impl AurServer {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The Unix account clients log in as: the current user, or, when the tests run
    /// as root, a dedicated unprivileged account.
    pub fn user(&self) -> String {
        self.account.name.clone()
    }

    /// `ssh://<user>@127.0.0.1:<port>/{pkgbase}.git`, `{pkgbase}` left to fill in.
    pub fn remote_template(&self) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}/{{pkgbase}}.git",
            self.account.name, self.port
        )
    }

    /// The private key the server accepts (mode 0600, owned by the test process).
    pub fn client_key(&self) -> PathBuf {
        self.path("client_key")
    }

    /// `[127.0.0.1]:<port> ssh-ed25519 AAAA...`, a known_hosts line pinning the host key.
    pub fn known_hosts_line(&self) -> String {
        let public = fs::read_to_string(self.path("host_key.pub")).expect("read host key");
        let key: Vec<&str> = public.split_whitespace().take(2).collect();
        format!("[127.0.0.1]:{} {}", self.port, key.join(" "))
    }

    /// The host key's `SHA256:...` fingerprint, as `ssh-keygen -lf` prints it.
    pub fn host_key_fingerprint(&self) -> String {
        self.host_key_fingerprint.clone()
    }

    /// Where the server keeps `<pkgbase>`'s bare repository (it may not exist yet).
    /// As root it belongs to another account: git then needs `safe.directory`.
    pub fn bare_repo(&self, pkgbase: &str) -> PathBuf {
        self.path("srv/repos").join(format!("{pkgbase}.git"))
    }

    /// The commit `master` of `<pkgbase>` is at on the server; `None` while nothing was
    /// pushed there.
    pub fn master(&self, pkgbase: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["-c", "safe.directory=*", "--git-dir"])
            .arg(self.bare_repo(pkgbase))
            .args(["rev-parse", "--verify", "--quiet", "refs/heads/master"])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", "/nonexistent")
            .output()
            .expect("start git");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The directory of the bare repositories, `<pkgbase>.git` each (the AUR's web front
    /// serves them too).
    pub fn repos_dir(&self) -> PathBuf {
        self.path("srv/repos")
    }

    /// `<pkgbase> <maintainer>` lines, from [`Self::set_owner`]; the last one counts.
    pub fn owners_file(&self) -> PathBuf {
        self.path("owners")
    }

    /// `<pkgbase> <keyword>...` lines, one per `set-keywords` (see [`Self::keywords_log`]).
    pub fn keywords_file(&self) -> PathBuf {
        self.path("srv/keywords.log")
    }

    /// The pkgbases the server has a repository for, sorted.
    pub fn repo_names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path("srv/repos"))
            .expect("list the server's repositories")
            .map(|e| e.expect("read a repository entry").file_name())
            .filter_map(|n| n.to_str()?.strip_suffix(".git").map(str::to_owned))
            // Repositories being created are hidden (`.new.XXXXXX`).
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    /// Copies what the server holds, every repository and the keywords log, into `dest`
    /// (which must not exist yet), owners and modes kept, so that [`Self::restore`] can put
    /// the server back as it is now.
    pub fn save(&self, dest: &Path) {
        fs::create_dir(dest).unwrap_or_else(|e| panic!("mkdir {}: {e}", dest.display()));
        for item in ["repos", "keywords.log"] {
            command_output(
                Command::new("cp")
                    .arg("-a")
                    .arg(self.path("srv").join(item))
                    .arg(dest.join(item)),
            );
        }
    }

    /// Puts back what [`Self::save`] copied into `saved`, dropping everything since.
    pub fn restore(&self, saved: &Path) {
        let repos = self.path("srv/repos");
        for entry in fs::read_dir(&repos).expect("list the server's repositories") {
            let path = entry.expect("read a repository entry").path();
            fs::remove_dir_all(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
        }
        command_output(
            Command::new("cp")
                .arg("-a")
                .arg(saved.join("repos/."))
                .arg(&repos),
        );
        command_output(
            Command::new("cp")
                .arg("-a")
                .arg(saved.join("keywords.log"))
                .arg(self.path("srv/keywords.log")),
        );
    }

    /// Every `set-keywords` received, one line each: `<pkgbase> <keyword>...`.
    pub fn keywords_log(&self) -> String {
        fs::read_to_string(self.path("srv/keywords.log")).expect("read keywords.log")
    }

    /// The `adopt`, `disown`, `flag` and `unflag` commands the server carried out, a line each.
    pub fn actions_log(&self) -> String {
        fs::read_to_string(self.path("srv/actions.log")).expect("read actions.log")
    }

    /// sshd's log (LogLevel VERBOSE), to print when a test fails.
    pub fn log(&self) -> String {
        fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }

    /// How many connections sshd has accepted so far (its `Connection from` log lines).
    pub fn connections(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("Connection from"))
            .count()
    }

    /// An ssh command line for `GIT_SSH_COMMAND` (or to run with `<user>@127.0.0.1
    /// <command>` appended): the client key, the pinned host key, no user config.
    pub fn git_ssh_command(&self) -> String {
        format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o BatchMode=yes \
             -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null \
             -o StrictHostKeyChecking=yes -p {}",
            self.client_key().display(),
            self.path("known_hosts").display(),
            self.port
        )
    }

    /// While on, every push is refused with the same message.
    pub fn set_refuse_all(&self, on: bool) {
        let switch = self.path("refuse-all");
        if on {
            write_readable(&switch, "");
        } else if switch.exists() {
            fs::remove_file(&switch).expect("remove the refuse-all switch");
        }
    }

    /// Records `maintainer` as the owner of `pkgbase`: pushes to it are refused
    /// unless the maintainer is [`BOT_ACCOUNT`].
    pub fn set_owner(&self, pkgbase: &str, maintainer: &str) {
        let mut owners = OpenOptions::new()
            .append(true)
            .open(self.path("owners"))
            .expect("open owners");
        writeln!(owners, "{pkgbase} {maintainer}").expect("write owners");
    }

    /// Kills sshd: connections are refused until [`AurServer::restart`].
    pub fn stop(&mut self) {
        if let Some(mut sshd) = self.sshd.take() {
            // An error here means sshd has already exited, which is what we want.
            let _ = sshd.kill();
            let _ = sshd.wait();
        }
    }

    /// Starts sshd again on the same port, with the same keys and repositories.
    pub fn restart(&mut self) {
        self.stop();
        // Another process may have taken the port meanwhile; it is unlikely to
        // keep it for long.
        for _ in 0..20 {
            if let Launch::Ready = self.launch(self.port) {
                return;
            }
            sleep(Duration::from_millis(100));
        }
        panic!("sshd could not get port {} back\n{}", self.port, self.log());
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts sshd on `port` and waits until it listens, or reports that the port
    /// was taken. Any other failure panics with the log.
    fn launch(&mut self, port: u16) -> Launch {
        self.port = port;
        let d = self.dir.path();
        write_readable(&self.path("known_hosts"), &self.known_hosts_line());
        write_readable(
            &self.path("sshd_config"),
            &format!(
                "ListenAddress 127.0.0.1\n\
                 Port {port}\n\
                 HostKey {dir}/host_key\n\
                 PidFile {dir}/sshd.pid\n\
                 AuthorizedKeysFile {dir}/authorized_keys\n\
                 AllowUsers {user}\n\
                 PermitRootLogin no\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 UsePAM no\n\
                 StrictModes no\n\
                 PrintMotd no\n\
                 LogLevel VERBOSE\n",
                dir = d.display(),
                user = self.account.name,
            ),
        );

        let log_path = self.path("sshd.log");
        // Earlier runs' lines stay in the log; only what this run writes counts.
        let log_start = fs::metadata(&log_path).map_or(0, |m| m.len() as usize);
        let early_errors = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("open sshd.log");
        let mut sshd = Command::new(SSHD)
            .arg("-D")
            .arg("-f")
            .arg(self.path("sshd_config"))
            .arg("-E")
            .arg(&log_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(early_errors)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {SSHD}: {e}"));

        let listening = format!("Server listening on 127.0.0.1 port {port}");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let log = self.log();
            let this_run = log.get(log_start..).unwrap_or_default();
            if let Some(status) = sshd.try_wait().expect("poll sshd") {
                if this_run.contains("Address already in use") {
                    return Launch::PortTaken;
                }
                panic!("sshd exited ({status}) before listening:\n{log}");
            }
            // The log line proves that this sshd, not some other process, holds the port.
            if this_run.contains(&listening) && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                self.sshd = Some(sshd);
                return Launch::Ready;
            }
            if Instant::now() > deadline {
                let _ = sshd.kill();
                let _ = sshd.wait();
                panic!("sshd did not listen on port {port} within {READY_TIMEOUT:?}:\n{log}");
            }
            sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for AurServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Account {
    /// Hands a file the account must write over to it.
    fn give(&self, path: &Path) {
        if let Some((uid, gid)) = self.ids {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        }
    }
}

/// Creates the root-mode login account if needed. Several test binaries may do
/// this at once: useradd and usermod fail while another holds the passwd lock,
/// and useradd fails if another has just created the account, so each step is
/// retried after looking at the account again.
fn dedicated_account() -> Account {
    let mut last_error = String::new();
    for _ in 0..100 {
        let step = match getent("passwd", ROOT_MODE_ACCOUNT) {
            None => try_command(Command::new("useradd").args([
                "--system",
                "--create-home",
                "--home-dir",
                ROOT_MODE_HOME,
                "--shell",
                "/bin/sh",
                "--password",
                "*",
                ROOT_MODE_ACCOUNT,
            ])),
            // With UsePAM no, sshd refuses a locked ('!') account; '*' is unlocked
            // yet matches no password.
            Some(_) if is_locked(ROOT_MODE_ACCOUNT) => {
                try_command(Command::new("usermod").args(["-p", "*", ROOT_MODE_ACCOUNT]))
            }
            Some(entry) => return account_from_passwd(&entry),
        };
        if let Err(error) = step {
            last_error = error;
            sleep(Duration::from_millis(100));
        }
    }
    panic!("cannot set up the {ROOT_MODE_ACCOUNT} account: {last_error}");
}

fn account_from_passwd(entry: &str) -> Account {
    let fields: Vec<&str> = entry.trim_end().split(':').collect();
    let [name, _, uid, gid, _, _, shell] = fields[..] else {
        panic!("unexpected passwd entry: {entry}");
    };
    // sshd runs the forced command with the login shell.
    assert_eq!(
        shell, "/bin/sh",
        "{name} must have /bin/sh as its login shell"
    );
    Account {
        name: name.to_owned(),
        ids: Some((
            uid.parse().expect("numeric uid"),
            gid.parse().expect("numeric gid"),
        )),
    }
}

fn is_locked(account: &str) -> bool {
    getent("shadow", account)
        .and_then(|entry| entry.split(':').nth(1).map(|p| p.starts_with('!')))
        .unwrap_or(false)
}

fn getent(database: &str, key: &str) -> Option<String> {
    let out = Command::new("getent")
        .args([database, key])
        .output()
        .expect("run getent");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Binding port 0 makes the kernel pick a free port; it is released for sshd.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free port")
        .port()
}

fn try_command(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn command_output(cmd: &mut Command) -> String {
    try_command(cmd).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes a file the login account and sshd may read.
fn write_readable(path: &Path, text: &str) {
    File::create(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    set_mode(path, 0o644);
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}
