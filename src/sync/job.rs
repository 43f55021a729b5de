//! One package's git job, run on a blocking thread: bring the clone to the server's tip,
//! decide pkgrel/epoch and the message, ask the review gate, build if asked, commit, check the
//! AUR's push rules, push. Errors stay typed, so the run can tell a failure of the whole
//! connection from one package's.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use super::keywords;
use crate::aur_tip::{PublishedPackage, TipError};
use crate::build::{BuildFailure, Farm};
use crate::pkgrel::{self, TipUpdate};
use crate::publish::git::{self, GitError, Identity, PackageRepo, RemoteAuth, RemoteError};
use crate::render::{self, Files, model::PackageModel};
use crate::review::queue::{self, Verdict};
use crate::review::{self, Proposed, Reason, ReviewPolicy};

/// Everything `publish_one` needs, owned, to run on a blocking thread.
pub(super) struct Job {
    pub(super) model: PackageModel,
    pub(super) dir: PathBuf,
    pub(super) url: String,
    pub(super) auth: RemoteAuth,
    pub(super) identity: Identity,
    pub(super) dry_run: bool,
    /// The build farm, when `[build]` is set (never in a dry run): exactly the files pushed
    /// are built first.
    pub(super) farm: Option<Arc<Mutex<Farm>>>,
    /// The input's digest, which the farm records.
    pub(super) input_digest: String,
    /// The review gate, when it is on.
    pub(super) gate: Option<Gate>,
    /// Made before a first push, see [`keywords`]; `None` where no keywords are set.
    pub(super) keywords_mark: Option<PathBuf>,
}

pub(super) struct Gate {
    pub(super) policy: ReviewPolicy,
    pub(super) proposed: Proposed,
    /// A queued entry's decision and the digest of the files it was about.
    pub(super) decided: Option<(Verdict, String)>,
}

pub(super) enum Step {
    Pushed {
        commit: String,
        message: String,
    },
    Unchanged {
        commit: String,
    },
    WouldPush {
        message: String,
        diff: String,
    },
    /// The gate holds these files back: nothing was committed.
    Review(ForReview),
    /// A maintainer rejected exactly these files: nothing was committed.
    Rejected {
        reasons: Vec<Reason>,
    },
}

/// A change the review gate holds back, and why.
pub(super) struct ForReview {
    pub(super) message: String,
    pub(super) files: Files,
    pub(super) diff: String,
    pub(super) reasons: Vec<Reason>,
}

/// Why one package was not published.
#[derive(Debug, thiserror::Error)]
pub(super) enum PublishError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// What the server holds cannot be read, so nothing can be decided against it.
    #[error(transparent)]
    Tip(#[from] TipError),
    /// The pkgrel/epoch rules or rendering refused (a changed checksum, a render bug).
    #[error("{0}")]
    Refused(String),
    #[error("the commit breaks the AUR's push rules: {}", .0.join("; "))]
    Rules(Vec<String>),
    /// The build failed; the message ends with the build log's last lines.
    #[error("{0}")]
    Build(String),
    #[error("cannot write {}: {source}", path.display())]
    Mark {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the server moved twice while we pushed (first: {first}; then: {then}); retrying next run"
    )]
    MovedTwice { first: String, then: String },
    /// The blocking task itself died.
    #[error("the publishing task failed: {0}")]
    Task(String),
}

impl PublishError {
    /// The remote's error, if talking to the server is what failed.
    pub(super) fn remote(&self) -> Option<&RemoteError> {
        match self {
            PublishError::Remote(e) | PublishError::Git(GitError::Remote(e)) => Some(e),
            _ => None,
        }
    }
}

/// Syncs the clone, decides, commits, checks and pushes one package; retries once when
/// someone else pushed in between.
pub(super) fn publish_one(job: &Job) -> Result<Step, PublishError> {
    match attempt(job) {
        Err(PublishError::Remote(RemoteError::NotFastForward { message: first })) => {
            match attempt(job) {
                Err(PublishError::Remote(RemoteError::NotFastForward { message: then })) => {
                    Err(PublishError::MovedTwice { first, then })
                }
                other => other,
            }
        }
        other => other,
    }
}

fn attempt(job: &Job) -> Result<Step, PublishError> {
    let mut repo: PackageRepo = git::sync_clone(&job.dir, &job.url, &job.auth)?;
    let tip = repo.tip_files().map(PublishedPackage::read).transpose()?;
    let render_files =
        |m: &PackageModel| -> Result<Files, String> { render::files(m).map_err(|e| e.to_string()) };
    let update = pkgrel::next_commit(&job.model, tip.as_ref(), &render_files)
        .map_err(PublishError::Refused)?;
    let (model, files, message) = match update {
        TipUpdate::Unchanged { model, files } => {
            // The repository follows the AUR even when nothing is pushed.
            build_first(job, &model, &files).map_err(|e| {
                PublishError::Build(format!(
                    "the AUR already has these files, but our repository does not: {e}"
                ))
            })?;
            let commit = repo.tip_commit().map(|c| c.to_string()).unwrap_or_default();
            return Ok(Step::Unchanged { commit });
        }
        TipUpdate::Commit {
            model,
            files,
            message,
        } => (model, files, message),
    };
    // Decided on each attempt: after a retry the tip, and so the files, may differ from what
    // a maintainer approved.
    if let Some(gate) = &job.gate {
        // The files to push, read as the tip was: the gate compares like with like.
        let new = PublishedPackage::read(files.clone())?;
        let reasons = review::reasons(&gate.policy, tip.as_ref(), &new, &gate.proposed);
        if !reasons.is_empty() {
            let digest = queue::files_digest(&files);
            match &gate.decided {
                Some((Verdict::Approved, d)) if *d == digest => {}
                Some((Verdict::Rejected, d)) if *d == digest => {
                    return Ok(Step::Rejected { reasons });
                }
                _ => {
                    let diff = unified_diff(tip.as_ref().map(|t| &t.files), &files);
                    return Ok(Step::Review(ForReview {
                        message,
                        files,
                        diff,
                        reasons,
                    }));
                }
            }
        }
    }
    build_first(job, &model, &files).map_err(|e| PublishError::Build(e.to_string()))?;
    if job.dry_run {
        let diff = unified_diff(tip.as_ref().map(|t| &t.files), &files);
        return Ok(Step::WouldPush { message, diff });
    }
    let first = repo.tip_commit().is_none();
    let committed = repo.commit_files(
        &[
            ("PKGBUILD", files.pkgbuild.as_bytes()),
            (".SRCINFO", files.srcinfo.as_bytes()),
        ],
        &message,
        &job.identity,
    )?;
    let Some(commit) = committed else {
        let commit = repo.tip_commit().map(|c| c.to_string()).unwrap_or_default();
        return Ok(Step::Unchanged { commit });
    };
    let pkgbase = job.model.pkgname.to_string();
    repo.check_aur_rules(&pkgbase)
        .map_err(PublishError::Rules)?;
    if first && let Some(mark) = &job.keywords_mark {
        keywords::mark(mark).map_err(|source| PublishError::Mark {
            path: mark.clone(),
            source,
        })?;
    }
    repo.push(&job.auth)?;
    Ok(Step::Pushed {
        commit: commit.to_string(),
        message,
    })
}

/// Builds `files` into the repository when there is a farm.
fn build_first(job: &Job, model: &PackageModel, files: &Files) -> Result<(), BuildFailure> {
    let Some(farm) = &job.farm else {
        return Ok(());
    };
    let mut farm = farm.lock().unwrap_or_else(PoisonError::into_inner);
    farm.ensure_built(model, files, &job.input_digest).map(drop)
}

/// A unified diff of both files against the tip, for `--dry-run` and the review queue.
pub(super) fn unified_diff(tip: Option<&Files>, new: &Files) -> String {
    let empty = Files {
        pkgbuild: String::new(),
        srcinfo: String::new(),
    };
    let old = tip.unwrap_or(&empty);
    let mut out = String::new();
    for (name, a, b) in [
        ("PKGBUILD", &old.pkgbuild, &new.pkgbuild),
        (".SRCINFO", &old.srcinfo, &new.srcinfo),
    ] {
        if a != b {
            let diff = similar::TextDiff::from_lines(a.as_str(), b.as_str());
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string(),
            );
        }
    }
    out
}
