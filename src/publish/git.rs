//! One package's AUR repository, driven with git2 (blocking: run it in `spawn_blocking`).
//!
//! The local copy is a bare repository, because we never need a work tree: files are read from
//! and written to trees directly. Every run starts from what the server has ([`sync_clone`]),
//! commits only when the tree changes ([`PackageRepo::commit_files`]), and pushes without force
//! ([`PackageRepo::push`]). Only `refs/heads/master` is ever written or pushed, which is the one
//! branch the AUR accepts.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use git2::{
    AutotagOption, CertificateCheckStatus, Cred, CredentialType, ErrorClass, ErrorCode,
    FetchOptions, ObjectType, Oid, PushOptions, RemoteCallbacks, Repository, RepositoryInitOptions,
    Signature,
};

use git2::cert::Cert;

use super::known_hosts::{HostKeyError, PinnedHostKeys};
use crate::render::Files;

const BRANCH: &str = "refs/heads/master";
/// Where a fetch puts the server's `master`; deleted before each fetch so it never goes stale.
const TRACKING: &str = "refs/remotes/origin/master";
const FILE_MODE: i32 = 0o100644;
const EXEC_MODE: i32 = 0o100755;

/// How to authenticate to a remote and how to recognise it.
#[derive(Clone, Debug)]
pub struct RemoteAuth {
    /// Private key for ssh remotes; `None` for remotes that need none (`file://`, tests).
    pub ssh_key: Option<PathBuf>,
    pub pins: PinnedHostKeys,
}

/// `template` with `{pkgbase}` replaced, e.g. `ssh://aur@aur.archlinux.org/{pkgbase}.git`.
pub fn remote_url(template: &str, pkgbase: &str) -> String {
    template.replace("{pkgbase}", pkgbase)
}

/// A commit author, parsed from `Name <email>`; also used as committer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    name: String,
    email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identity {0:?} is not of the form `Name <email>`")]
pub struct BadIdentity(pub String);

impl FromStr for Identity {
    type Err = BadIdentity;

    fn from_str(s: &str) -> Result<Self, BadIdentity> {
        let bad = || BadIdentity(s.to_owned());
        let (name, rest) = s.split_once('<').ok_or_else(bad)?;
        let email = rest.strip_suffix('>').ok_or_else(bad)?;
        let name = name.trim();
        let angle = |c: char| c == '<' || c == '>';
        if name.is_empty() || name.contains(angle) {
            return Err(bad());
        }
        if email.is_empty() || email.contains(angle) || email.contains(char::is_whitespace) {
            return Err(bad());
        }
        Ok(Identity {
            name: name.to_owned(),
            email: email.to_owned(),
        })
    }
}

/// Failures of local repository work, or of the fetch in [`sync_clone`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("cannot commit {0:?}: only plain top-level file names are allowed")]
    BadFileName(String),
    #[error("file {0:?} is given twice in one commit")]
    DuplicateFile(String),
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("cannot clear the local repository {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Failures talking to a remote (fetch or push), sorted by what the caller should do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The server's host key is not pinned: never retry blindly, tell a human.
    #[error(transparent)]
    HostKey(#[from] HostKeyError),
    /// The ssh key was refused or missing.
    #[error("ssh authentication failed: {message}")]
    Auth { message: String },
    /// The server refused the update (AUR hook); `message` carries its `remote:` text.
    #[error("the server refused the push:\n{message}")]
    Rejected { message: String },
    /// The server has commits we don't: sync again and rebuild the commit.
    #[error("not a fast-forward, someone else pushed first: {message}")]
    NotFastForward { message: String },
    /// Connection refused, timed out, or name resolution failed: retry next run.
    #[error("cannot reach the server: {0}")]
    Unreachable(git2::Error),
    #[error("git remote operation failed: {error}{}", remote_suffix(.remote_text))]
    Other {
        error: git2::Error,
        remote_text: String,
    },
}

fn remote_suffix(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("\n{text}")
    }
}

/// A package's local repository, synchronised with its remote.
pub struct PackageRepo {
    repo: Repository,
    url: String,
    /// The server's `master` as of the last sync or push; `None` for an empty remote.
    remote_tip: Option<Oid>,
}

/// Opens (or creates) the bare repository at `dir` and makes local `master` exactly the remote's
/// `master`: local commits from a crashed run are dropped, so we always build on what the server
/// has. An empty remote (a new AUR package) gives a repository without commits.
///
/// The local repository is only a cache of the server's, and a run killed at any moment must
/// not break the next one: lock files left behind are removed, and a repository that still
/// cannot be used (say, killed while it was being created) is deleted and fetched anew. The
/// caller must therefore be the only one using `dir` (sync holds its state lock).
///
/// # Errors
/// [`GitError::Remote`] when the fetch fails, [`GitError::Git`] for local repository errors,
/// [`GitError::Io`] when a damaged repository cannot be cleared away.
pub fn sync_clone(dir: &Path, url: &str, auth: &RemoteAuth) -> Result<PackageRepo, GitError> {
    let io = |source| GitError::Io {
        path: dir.to_owned(),
        source,
    };
    remove_stale_locks(dir).map_err(io)?;
    match open_and_fetch(dir, url, auth) {
        Err(GitError::Git(e)) => {
            tracing::warn!(repository = %dir.display(), error = %e, "the local clone is unusable; cloning it again");
            match std::fs::remove_dir_all(dir) {
                // Creating it failed before anything was written (a full disk, say): the
                // second try reports that.
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            }
            open_and_fetch(dir, url, auth)
        }
        other => other,
    }
}

/// libgit2 writes a ref, HEAD or the config through `<file>.lock` and refuses to start while
/// one exists; a run killed in between leaves it behind for good. Object files are written
/// under temporary names and renamed, so `objects/` holds no locks and is not walked.
fn remove_stale_locks(dir: &Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if entry.file_name() != "objects" {
                remove_stale_locks(&path)?;
            }
        } else if path.extension().is_some_and(|e| e == "lock") {
            tracing::warn!(lock = %path.display(), "removing a lock file left by an interrupted run");
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

fn open_and_fetch(dir: &Path, url: &str, auth: &RemoteAuth) -> Result<PackageRepo, GitError> {
    let repo = match Repository::open_bare(dir) {
        Ok(repo) => repo,
        Err(e) if e.code() == ErrorCode::NotFound => Repository::init_opts(
            dir,
            RepositoryInitOptions::new()
                .bare(true)
                .mkpath(true)
                .initial_head("master"),
        )?,
        Err(e) => return Err(e.into()),
    };
    repo.set_head(BRANCH)?;
    if let Ok(mut stale) = repo.find_reference(TRACKING) {
        stale.delete()?;
    }

    let talk = Conversation::new(auth, url);
    {
        let mut remote = repo.remote_anonymous(url)?;
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(talk.callbacks())
            .download_tags(AutotagOption::None);
        remote
            .fetch(&[format!("+{BRANCH}:{TRACKING}")], Some(&mut options), None)
            .map_err(|e| talk.classify(e))?;
    }

    let remote_tip = match repo.refname_to_id(TRACKING) {
        Ok(id) => Some(id),
        Err(e) if e.code() == ErrorCode::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    match remote_tip {
        Some(id) => {
            repo.reference(BRANCH, id, true, "sync: reset to the remote tip")?;
        }
        None => {
            if let Ok(mut local) = repo.find_reference(BRANCH) {
                local.delete()?;
            }
        }
    }
    Ok(PackageRepo {
        repo,
        url: url.to_owned(),
        remote_tip,
    })
}

impl PackageRepo {
    /// The local clone at `dir` as the last run left it, without asking the server: what it
    /// last confirmed. `None` when there is no usable clone.
    pub fn open_local(dir: &Path) -> Option<PackageRepo> {
        let repo = Repository::open_bare(dir).ok()?;
        Some(PackageRepo {
            repo,
            url: String::new(),
            remote_tip: None,
        })
    }

    /// The PKGBUILD and .SRCINFO at the tip; `None` when there is no commit.
    pub fn tip_files(&self) -> Option<Files> {
        let text = |name| {
            self.tip_file(name)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        self.tip_commit()?;
        Some(Files {
            pkgbuild: text("PKGBUILD").unwrap_or_default(),
            srcinfo: text(".SRCINFO").unwrap_or_default(),
        })
    }

    /// The local `master`: the server's tip after [`sync_clone`], ours after a commit.
    pub fn tip_commit(&self) -> Option<Oid> {
        self.repo.refname_to_id(BRANCH).ok()
    }

    /// The content of top-level file `name` at [`Self::tip_commit`].
    pub fn tip_file(&self, name: &str) -> Option<Vec<u8>> {
        let tree = self
            .repo
            .find_commit(self.tip_commit()?)
            .ok()?
            .tree()
            .ok()?;
        let entry = tree.get_name(name)?;
        let blob = entry.to_object(&self.repo).ok()?.into_blob().ok()?;
        Some(blob.content().to_vec())
    }

    /// Commits `files` (top-level name, content) on top of the tip, keeping every other file.
    /// Returns `None`, and commits nothing, when the resulting tree equals the tip's.
    ///
    /// # Errors
    /// [`GitError::BadFileName`] for names with `/` or special names, [`GitError::DuplicateFile`],
    /// and [`GitError::Git`] for repository errors.
    pub fn commit_files(
        &mut self,
        files: &[(&str, &[u8])],
        message: &str,
        author: &Identity,
    ) -> Result<Option<Oid>, GitError> {
        let parent = self
            .tip_commit()
            .map(|id| self.repo.find_commit(id))
            .transpose()?;
        let base = parent.as_ref().map(|c| c.tree()).transpose()?;
        let mut builder = self.repo.treebuilder(base.as_ref())?;
        let mut seen = HashSet::new();
        for &(name, content) in files {
            if name.is_empty() || matches!(name, "." | ".." | ".git") || name.contains(['/', '\0'])
            {
                return Err(GitError::BadFileName(name.to_owned()));
            }
            if !seen.insert(name) {
                return Err(GitError::DuplicateFile(name.to_owned()));
            }
            // Keep an existing executable bit, so rewriting a file with equal bytes is no change.
            let mode = match builder.get(name)? {
                Some(e) if e.kind() == Some(ObjectType::Blob) && e.filemode() == EXEC_MODE => {
                    EXEC_MODE
                }
                _ => FILE_MODE,
            };
            builder.insert(name, self.repo.blob(content)?, mode)?;
        }
        let tree_id = builder.write()?;
        let unchanged = match &base {
            Some(tree) => tree.id() == tree_id,
            None => builder.is_empty(),
        };
        if unchanged {
            return Ok(None);
        }
        let tree = self.repo.find_tree(tree_id)?;
        let signature = Signature::now(&author.name, &author.email)?;
        let parents: Vec<_> = parent.iter().collect();
        let id = self.repo.commit(
            Some(BRANCH),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        )?;
        Ok(Some(id))
    }

    /// Checks the commits that [`Self::push`] would send against the AUR's push rules.
    ///
    /// # Errors
    /// Every broken rule, one message each.
    pub fn check_aur_rules(&self, pkgbase: &str) -> Result<(), Vec<String>> {
        match self.tip_commit() {
            Some(tip) if Some(tip) != self.remote_tip => {
                super::rules::check_aur_rules(&self.repo, self.remote_tip, tip, pkgbase)
            }
            _ => Ok(()),
        }
    }

    /// Pushes local `master` to the remote's `master`, fast-forward only. Does nothing when
    /// there is nothing new.
    ///
    /// # Errors
    /// See [`RemoteError`]; a ref the server refuses is an error even though libgit2 reports
    /// success for it.
    pub fn push(&mut self, auth: &RemoteAuth) -> Result<(), RemoteError> {
        let Some(tip) = self.tip_commit() else {
            return Ok(());
        };
        if Some(tip) == self.remote_tip {
            return Ok(());
        }
        let talk = Conversation::new(auth, &self.url);
        {
            let mut remote = self
                .repo
                .remote_anonymous(&self.url)
                .map_err(|e| talk.classify(e))?;
            let mut options = PushOptions::new();
            options.remote_callbacks(talk.callbacks());
            // No leading `+`: the server must fast-forward, never be overwritten.
            remote
                .push(&[format!("{BRANCH}:{BRANCH}")], Some(&mut options))
                .map_err(|e| talk.classify(e))?;
        }
        if let Some(refused) = talk.refusal() {
            return Err(refused);
        }
        self.remote_tip = Some(tip);
        Ok(())
    }
}

/// What the callbacks of one fetch or push learn, read back to classify the outcome.
struct Conversation<'a> {
    auth: &'a RemoteAuth,
    /// libgit2 hands `certificate_check` the host name only; the port comes from the URL.
    port: u16,
    host_key: RefCell<Option<HostKeyError>>,
    auth_failure: RefCell<Option<String>>,
    key_attempts: Cell<u32>,
    ref_statuses: RefCell<Vec<String>>,
    remote_text: RefCell<Vec<u8>>,
}

impl<'a> Conversation<'a> {
    fn new(auth: &'a RemoteAuth, url: &str) -> Self {
        let port = url::Url::parse(url)
            .ok()
            .and_then(|u| u.port())
            .unwrap_or(22);
        Conversation {
            auth,
            port,
            host_key: RefCell::new(None),
            auth_failure: RefCell::new(None),
            key_attempts: Cell::new(0),
            ref_statuses: RefCell::new(Vec::new()),
            remote_text: RefCell::new(Vec::new()),
        }
    }

    fn callbacks(&self) -> RemoteCallbacks<'_> {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.certificate_check(|cert, host| self.certificate_check(cert, host));
        callbacks.credentials(|_url, user, allowed| self.credentials(user, allowed));
        callbacks.sideband_progress(|text| {
            self.remote_text.borrow_mut().extend_from_slice(text);
            true
        });
        callbacks.push_update_reference(|refname, status| {
            if let Some(status) = status {
                self.ref_statuses
                    .borrow_mut()
                    .push(format!("{refname}: {status}"));
            }
            Ok(())
        });
        callbacks
    }

    /// Replaces libgit2's own known_hosts decision, so it must refuse anything unpinned.
    fn certificate_check(
        &self,
        cert: &Cert<'_>,
        host: &str,
    ) -> Result<CertificateCheckStatus, git2::Error> {
        let Some(hostkey) = cert.as_hostkey() else {
            // An X.509 certificate (https): libgit2's TLS verification stays in charge.
            return Ok(CertificateCheckStatus::CertificatePassthrough);
        };
        // `hostkey_type()` is not used: git2 panics on key types it doesn't know, and the blob
        // names its own type anyway.
        let Some(blob) = hostkey.hostkey() else {
            return Err(git2::Error::from_str(
                "the server's raw host key is unavailable",
            ));
        };
        match self.auth.pins.check(host, self.port, blob) {
            Ok(()) => Ok(CertificateCheckStatus::CertificateOk),
            Err(e) => {
                let error = git2::Error::from_str(&e.to_string());
                *self.host_key.borrow_mut() = Some(e);
                Err(error)
            }
        }
    }

    fn credentials(
        &self,
        user: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        let fail = |message: String| {
            let error = git2::Error::from_str(&message);
            *self.auth_failure.borrow_mut() = Some(message);
            Err(error)
        };
        let Some(user) = user else {
            return fail("the remote URL names no user (ssh://user@host/...)".into());
        };
        let Some(key) = &self.auth.ssh_key else {
            return fail("the server asks for credentials and no ssh key is configured".into());
        };
        if !allowed.contains(CredentialType::SSH_KEY) {
            return fail(format!(
                "the server accepts no public keys (it offers {allowed:?})"
            ));
        }
        // libgit2 calls again after every refusal; the same key will not be accepted later.
        let attempt = self.key_attempts.get() + 1;
        self.key_attempts.set(attempt);
        if attempt > 1 {
            return fail(format!("the server refused the key {}", key.display()));
        }
        Cred::ssh_key(user, None, key, None)
    }

    fn remote_text(&self) -> String {
        let raw = String::from_utf8_lossy(&self.remote_text.borrow()).replace('\r', "\n");
        raw.lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(|l| format!("remote: {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Turns a failed operation into a [`RemoteError`], preferring what our callbacks saw over
    /// libgit2's message (libgit2 replaces a refused host key's message with a generic one).
    fn classify(&self, error: git2::Error) -> RemoteError {
        if let Some(e) = self.host_key.take() {
            return RemoteError::HostKey(e);
        }
        if let Some(message) = self.auth_failure.take() {
            return RemoteError::Auth { message };
        }
        match (error.code(), error.class()) {
            (ErrorCode::Auth, _) => RemoteError::Auth {
                message: error.message().to_owned(),
            },
            (ErrorCode::NotFastForward, _) => RemoteError::NotFastForward {
                message: error.message().to_owned(),
            },
            (ErrorCode::Timeout, _) | (_, ErrorClass::Net | ErrorClass::Os) => {
                RemoteError::Unreachable(error)
            }
            _ => RemoteError::Other {
                error,
                remote_text: self.remote_text(),
            },
        }
    }

    /// A push libgit2 called a success may still have had its ref refused by the server.
    fn refusal(&self) -> Option<RemoteError> {
        let statuses = self.ref_statuses.borrow();
        if statuses.is_empty() {
            return None;
        }
        let message = [statuses.join("\n"), self.remote_text()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        // receive-pack says "non-fast-forward"; "fetch first" is git's wording for the same.
        Some(
            if message.contains("non-fast-forward") || message.contains("fetch first") {
                RemoteError::NotFastForward { message }
            } else {
                RemoteError::Rejected { message }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Command};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::publish::known_hosts::aur_default;

    fn auth() -> RemoteAuth {
        RemoteAuth {
            ssh_key: None,
            pins: aur_default(),
        }
    }

    fn me() -> Identity {
        "raku-aur test <test@example.org>".parse().unwrap()
    }

    /// An empty bare "server" repository and its `file://` URL.
    fn server(root: &Path) -> String {
        let path = root.join("server.git");
        Repository::init_bare(&path).unwrap();
        format!("file://{}", path.display())
    }

    fn server_master(root: &Path) -> Option<Oid> {
        Repository::open_bare(root.join("server.git"))
            .unwrap()
            .refname_to_id(BRANCH)
            .ok()
    }

    #[test]
    fn identity_needs_name_and_email() {
        let id: Identity = "  Jane Doe <jane@example.org>".parse().unwrap();
        assert_eq!(
            (id.name.as_str(), id.email.as_str()),
            ("Jane Doe", "jane@example.org")
        );
        for bad in [
            "jane@example.org",
            "<jane@example.org>",
            "Jane <>",
            "Jane <a b>",
            "Jane <a> x",
        ] {
            assert_eq!(
                bad.parse::<Identity>(),
                Err(BadIdentity(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn remote_url_fills_in_the_pkgbase() {
        assert_eq!(
            remote_url(
                "ssh://aur@aur.archlinux.org/{pkgbase}.git",
                "raku-json-fast"
            ),
            "ssh://aur@aur.archlinux.org/raku-json-fast.git"
        );
    }

    #[test]
    fn cloning_an_empty_remote_gives_a_repo_without_commits() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let mut repo = sync_clone(&tmp.path().join("local"), &url, &auth()).unwrap();
        assert_eq!(repo.tip_commit(), None);
        assert_eq!(repo.tip_file("PKGBUILD"), None);
        // Nothing to push is a success that touches nothing.
        repo.push(&auth()).unwrap();
        assert_eq!(server_master(tmp.path()), None);
    }

    #[test]
    fn commit_and_push_then_a_fresh_clone_sees_the_files() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let mut repo = sync_clone(&tmp.path().join("a"), &url, &auth()).unwrap();
        let files: &[(&str, &[u8])] =
            &[("PKGBUILD", b"pkgname=x\n"), (".SRCINFO", b"pkgbase = x\n")];
        let id = repo.commit_files(files, "first", &me()).unwrap().unwrap();
        assert_eq!(repo.tip_commit(), Some(id));
        repo.push(&auth()).unwrap();
        assert_eq!(server_master(tmp.path()), Some(id));

        let fresh = sync_clone(&tmp.path().join("b"), &url, &auth()).unwrap();
        assert_eq!(fresh.tip_commit(), Some(id));
        assert_eq!(fresh.tip_file("PKGBUILD").unwrap(), b"pkgname=x\n");
        assert_eq!(fresh.tip_file(".SRCINFO").unwrap(), b"pkgbase = x\n");
        let commit = fresh.repo.find_commit(id).unwrap();
        assert_eq!(commit.message().unwrap(), "first");
        assert_eq!(commit.author().email().unwrap(), "test@example.org");
        assert_eq!(commit.committer().name().unwrap(), "raku-aur test");
        assert_eq!(commit.parent_count(), 0);
    }

    #[test]
    fn identical_content_makes_no_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let mut repo = sync_clone(&tmp.path().join("a"), &url, &auth()).unwrap();
        assert_eq!(repo.commit_files(&[], "nothing", &me()).unwrap(), None);
        let files: &[(&str, &[u8])] = &[("PKGBUILD", b"1")];
        let first = repo.commit_files(files, "first", &me()).unwrap().unwrap();
        assert_eq!(repo.commit_files(files, "again", &me()).unwrap(), None);
        assert_eq!(repo.commit_files(&[], "nothing", &me()).unwrap(), None);
        assert_eq!(repo.tip_commit(), Some(first));
    }

    #[test]
    fn only_the_given_files_change() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let mut repo = sync_clone(&tmp.path().join("a"), &url, &auth()).unwrap();
        let all: &[(&str, &[u8])] = &[
            ("PKGBUILD", b"1"),
            (".SRCINFO", b"s1"),
            ("LICENSE", b"text"),
        ];
        let first = repo.commit_files(all, "first", &me()).unwrap().unwrap();
        let second = repo
            .commit_files(&[("PKGBUILD", b"2"), (".SRCINFO", b"s1")], "bump", &me())
            .unwrap()
            .unwrap();
        assert_eq!(repo.tip_file("PKGBUILD").unwrap(), b"2");
        assert_eq!(repo.tip_file(".SRCINFO").unwrap(), b"s1");
        assert_eq!(repo.tip_file("LICENSE").unwrap(), b"text");
        let commit = repo.repo.find_commit(second).unwrap();
        assert_eq!(commit.parent_ids().collect::<Vec<_>>(), [first]);
        assert_eq!(commit.tree().unwrap().len(), 3);
    }

    #[test]
    fn file_names_must_be_plain_and_unique() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let mut repo = sync_clone(&tmp.path().join("a"), &url, &auth()).unwrap();
        for name in ["", ".", "..", ".git", "keys/pgp/x.asc", "a\0b"] {
            let err = repo.commit_files(&[(name, b"x")], "m", &me()).unwrap_err();
            assert!(
                matches!(err, GitError::BadFileName(ref n) if n == name),
                "{err:?}"
            );
        }
        let err = repo
            .commit_files(&[("PKGBUILD", b"1"), ("PKGBUILD", b"2")], "m", &me())
            .unwrap_err();
        assert!(
            matches!(err, GitError::DuplicateFile(ref n) if n == "PKGBUILD"),
            "{err:?}"
        );
        assert_eq!(repo.tip_commit(), None);
    }

    #[test]
    fn sync_discards_unpushed_local_commits() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let dir = tmp.path().join("a");

        // Against an empty remote, a leftover commit vanishes entirely.
        let mut repo = sync_clone(&dir, &url, &auth()).unwrap();
        repo.commit_files(&[("PKGBUILD", b"leftover")], "crash", &me())
            .unwrap();
        let repo = sync_clone(&dir, &url, &auth()).unwrap();
        assert_eq!(repo.tip_commit(), None);

        // Against a remote with history, local master goes back to the remote tip.
        let mut repo = repo;
        let pushed = repo
            .commit_files(&[("PKGBUILD", b"1")], "one", &me())
            .unwrap()
            .unwrap();
        repo.push(&auth()).unwrap();
        repo.commit_files(&[("PKGBUILD", b"leftover")], "crash", &me())
            .unwrap();
        let repo = sync_clone(&dir, &url, &auth()).unwrap();
        assert_eq!(repo.tip_commit(), Some(pushed));
        assert_eq!(repo.tip_file("PKGBUILD").unwrap(), b"1");
    }

    /// Commits and pushes `content` as PKGBUILD from the clone at `dir`, returning the commit.
    fn publish(dir: &Path, url: &str, content: &[u8]) -> Oid {
        let mut repo = sync_clone(dir, url, &auth()).unwrap();
        let id = repo
            .commit_files(&[("PKGBUILD", content)], "m", &me())
            .unwrap()
            .unwrap();
        repo.push(&auth()).unwrap();
        id
    }

    #[test]
    fn lock_files_of_a_killed_run_do_not_block_the_next() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let dir = tmp.path().join("a");
        publish(&dir, &url, b"1");
        // Every file libgit2 locks while a sync writes: as a run killed mid-write leaves them.
        for lock in [
            "HEAD.lock",
            "config.lock",
            "packed-refs.lock",
            "FETCH_HEAD.lock",
            "refs/heads/master.lock",
            "refs/remotes/origin/master.lock",
        ] {
            let lock = dir.join(lock);
            std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
            std::fs::write(lock, "").unwrap();
        }
        let id = publish(&dir, &url, b"2");
        assert_eq!(server_master(tmp.path()), Some(id));
        assert!(!dir.join("refs/heads/master.lock").exists());
    }

    #[test]
    fn a_half_made_clone_is_made_again() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let first = publish(&tmp.path().join("good"), &url, b"1");
        type Damage = fn(&Path);
        let damages: [(&str, Damage); 5] = [
            ("an empty directory", |_| {}),
            ("only an objects directory", |d| {
                std::fs::create_dir(d.join("objects")).unwrap()
            }),
            ("HEAD only", |d| {
                std::fs::write(d.join("HEAD"), "ref: refs/heads/master\n").unwrap()
            }),
            ("garbage in HEAD", |d| {
                std::fs::write(d.join("HEAD"), "ref: refs/he").unwrap();
                std::fs::create_dir_all(d.join("objects/pack")).unwrap();
                std::fs::create_dir_all(d.join("refs/heads")).unwrap();
            }),
            ("garbage in config", |d| {
                std::fs::write(d.join("HEAD"), "ref: refs/heads/master\n").unwrap();
                std::fs::write(d.join("config"), "[core\n\tbare = ").unwrap();
                std::fs::create_dir_all(d.join("objects/pack")).unwrap();
                std::fs::create_dir_all(d.join("refs/heads")).unwrap();
            }),
        ];
        for (i, (what, damage)) in damages.into_iter().enumerate() {
            let dir = tmp.path().join(format!("damaged-{i}"));
            std::fs::create_dir(&dir).unwrap();
            damage(&dir);
            let repo = sync_clone(&dir, &url, &auth()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(repo.tip_commit(), Some(first), "{what}");
            assert_eq!(repo.tip_file("PKGBUILD").unwrap(), b"1", "{what}");
        }
        // And one that lost its refs/ while holding objects still works from the server's tip.
        let dir = tmp.path().join("good");
        std::fs::remove_dir_all(dir.join("refs")).unwrap();
        let second = publish(&dir, &url, b"2");
        assert_eq!(server_master(tmp.path()), Some(second));
    }

    #[test]
    fn aur_rules_are_checked_on_the_unpushed_commits_only() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let mut repo = sync_clone(&tmp.path().join("a"), &url, &auth()).unwrap();
        assert_eq!(repo.check_aur_rules("raku-foo"), Ok(()));
        // Pushed history without a PKGBUILD is the server's business, not this push's.
        repo.commit_files(&[("README", b"old")], "old", &me())
            .unwrap();
        repo.push(&auth()).unwrap();
        assert_eq!(repo.check_aur_rules("raku-foo"), Ok(()));

        let srcinfo =
            b"pkgbase = raku-foo\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = any\n\npkgname = raku-foo\n";
        let files: &[(&str, &[u8])] = &[("PKGBUILD", b"x"), (".SRCINFO", srcinfo)];
        repo.commit_files(files, "good", &me()).unwrap();
        assert_eq!(repo.check_aur_rules("raku-foo"), Ok(()));
        let problems = repo.check_aur_rules("raku-bar").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("pkgbase raku-foo, but the repository is raku-bar"));
    }

    #[test]
    fn a_stale_clone_gets_not_fast_forward_and_a_resync_fixes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let mut ours = sync_clone(&tmp.path().join("ours"), &url, &auth()).unwrap();
        let mut theirs = sync_clone(&tmp.path().join("theirs"), &url, &auth()).unwrap();

        let their_commit = theirs
            .commit_files(&[("PKGBUILD", b"theirs")], "t", &me())
            .unwrap()
            .unwrap();
        theirs.push(&auth()).unwrap();
        ours.commit_files(&[("PKGBUILD", b"ours")], "o", &me())
            .unwrap();
        let err = ours.push(&auth()).unwrap_err();
        assert!(matches!(err, RemoteError::NotFastForward { .. }), "{err:?}");
        assert_eq!(server_master(tmp.path()), Some(their_commit));

        let mut ours = sync_clone(&tmp.path().join("ours"), &url, &auth()).unwrap();
        assert_eq!(ours.tip_file("PKGBUILD").unwrap(), b"theirs");
        let id = ours
            .commit_files(&[("PKGBUILD", b"ours")], "o", &me())
            .unwrap()
            .unwrap();
        ours.push(&auth()).unwrap();
        assert_eq!(server_master(tmp.path()), Some(id));
    }

    #[test]
    fn a_push_by_the_git_cli_is_picked_up_by_sync() {
        let tmp = tempfile::tempdir().unwrap();
        let url = server(tmp.path());
        let work = tmp.path().join("cli");
        git_cli(
            tmp.path(),
            &["clone", "--quiet", &url, work.to_str().unwrap()],
        );
        std::fs::write(work.join("PKGBUILD"), "from cli\n").unwrap();
        git_cli(&work, &["add", "PKGBUILD"]);
        git_cli(&work, &["commit", "--quiet", "-m", "cli"]);
        git_cli(
            &work,
            &["push", "--quiet", "origin", "HEAD:refs/heads/master"],
        );

        let repo = sync_clone(&tmp.path().join("a"), &url, &auth()).unwrap();
        assert_eq!(repo.tip_commit(), server_master(tmp.path()));
        assert_eq!(repo.tip_file("PKGBUILD").unwrap(), b"from cli\n");
    }

    #[test]
    fn a_hook_refusal_is_rejected_with_the_server_text() {
        let tmp = tempfile::tempdir().unwrap();
        server(tmp.path());
        let hook = tmp.path().join("server.git/hooks/pre-receive");
        std::fs::write(&hook, "#!/bin/sh\necho 'error: nope' >&2\nexit 1\n").unwrap();
        set_executable(&hook);
        // libgit2 pushes to file:// URLs in-process and never runs hooks, so serve the repository
        // through git-daemon on loopback, where git-receive-pack runs the hook as a server would.
        let daemon = GitDaemon::start(tmp.path());
        let url = format!("git://127.0.0.1:{}/server.git", daemon.port);

        let mut repo = sync_clone(&tmp.path().join("a"), &url, &auth()).unwrap();
        repo.commit_files(&[("PKGBUILD", b"1")], "one", &me())
            .unwrap();
        let err = repo.push(&auth()).unwrap_err();
        let RemoteError::Rejected { message } = &err else {
            panic!("expected Rejected, got {err:?}");
        };
        assert!(message.contains("remote: error: nope"), "{message}");
        assert!(
            message.contains("refs/heads/master: pre-receive hook declined"),
            "{message}"
        );
        assert_eq!(server_master(tmp.path()), None);
    }

    #[test]
    fn a_closed_port_is_unreachable() {
        let port = free_port();
        let tmp = tempfile::tempdir().unwrap();
        let url = format!("git://127.0.0.1:{port}/server.git");
        let err = sync_clone(&tmp.path().join("a"), &url, &auth())
            .map(drop)
            .unwrap_err();
        assert!(
            matches!(err, GitError::Remote(RemoteError::Unreachable(_))),
            "{err:?}"
        );
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn set_executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// The git CLI, isolated from the machine's and the user's configuration.
    /// `program` isolated from the machine's and the user's git configuration.
    fn isolated(program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", home)
            .env("GIT_AUTHOR_NAME", "cli")
            .env("GIT_AUTHOR_EMAIL", "cli@example.org")
            .env("GIT_COMMITTER_NAME", "cli")
            .env("GIT_COMMITTER_EMAIL", "cli@example.org");
        cmd
    }

    fn git_cli(dir: &Path, args: &[&str]) -> String {
        let out = isolated("git", dir)
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "git {args:?} failed: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// A git-daemon serving `root` on loopback with push enabled; killed on drop.
    struct GitDaemon {
        child: Child,
        port: u16,
    }

    impl GitDaemon {
        fn start(root: &Path) -> GitDaemon {
            let port = free_port();
            // Start git-daemon itself: `git daemon` runs it as a child that would outlive a kill.
            let exec_path = git_cli(root, &["--exec-path"]);
            let child = isolated(Path::new(exec_path.trim()).join("git-daemon"), root)
                .args(["--export-all", "--enable=receive-pack", "--reuseaddr"])
                .arg("--listen=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg(format!("--base-path={}", root.display()))
                .arg(root)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let daemon = GitDaemon { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "git daemon did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
            daemon
        }
    }

    impl Drop for GitDaemon {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
