//! `raku-aur sync`: publishes rendered packages to the AUR, one git repository each.
//!
//! Per run: take the state lock; read the AUR's metadata; render everything in memory
//! (distributions the AUR already ships are left to it, dangling dependencies hold packages
//! back); then, dependencies first, bring each package's clone to the server's tip, commit
//! what changed, check the AUR's push rules locally, and push. One package's failure is
//! recorded and the run goes on; packages that need a failed one wait for the next run. The
//! record of what was published (`published.json`) only advances after a confirmed push.
//!
//! With a review policy ([`crate::cli::SyncArgs::review`]), a change of a kind the policy
//! names is not pushed: it waits in the review queue ([`queue`]) until a maintainer approves
//! exactly those files, and the packages that need it wait with it. Without a policy the queue
//! is not consulted.

pub mod decide;
pub mod keywords;
pub mod queue;
pub mod review;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::aur::AurMetadata;
use crate::cli::{SourceArgs, SyncArgs};
use crate::fetch::HttpCache;
use crate::publish::git::{self, Identity, PackageRepo, RemoteAuth, RemoteError};
use crate::publish::known_hosts::{self, PinnedHostKeys};
use crate::render::{self, model::PackageModel};
use crate::render_cmd::{AurContext, Rendered, render_all};
use crate::text::for_terminal;
use decide::{Decision, Files};
use queue::{Entry, Queue, Verdict};
use review::{Proposed, Reason, ReviewPolicy};

/// How the run ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything that could be done was done.
    Clean,
    /// Some packages failed; the rest were published.
    SomeFailed,
}

/// What happened to one package, for `report.json`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PackageOutcome {
    pub pkgbase: String,
    pub pkgver: String,
    /// pushed / unchanged / would-push / failed / waiting / review / would-review / rejected
    pub status: &'static str,
    /// The commit message, the error, what it waits for, or why it needs review.
    pub detail: String,
}

/// `report.json` in the state directory.
#[derive(Debug, Serialize)]
pub struct SyncReport {
    pub dry_run: bool,
    pub packages: Vec<PackageOutcome>,
    pub held: Vec<crate::plan::Held>,
    pub covered: Vec<crate::plan::Covered>,
}

/// What was last confirmed on the server, per pkgbase (`published.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Published {
    packages: BTreeMap<String, PublishedEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct PublishedEntry {
    /// sha256 of the files as rendered before pkgrel/epoch adjustment: equal input, nothing to do.
    input_digest: String,
    commit: String,
}

/// `raku-aur sync`.
pub async fn run(args: SyncArgs) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&args.state)
        .with_context(|| format!("cannot create the state directory {}", args.state.display()))?;
    let _lock = lock(&args.state)?;
    // A run killed while writing published.json, report.json or a review entry leaves a
    // temporary file.
    for dir in [args.state.clone(), args.state.join(queue::DIR)] {
        crate::fsutil::remove_stale_temp_files(&dir)
            .with_context(|| format!("cannot clean up {}", dir.display()))?;
    }
    if args.verify_build {
        verify::check_usable().map_err(anyhow::Error::msg)?;
    }
    let identity: Identity = args
        .source
        .maintainer
        .parse()
        .context("--maintainer must be `Name <email>`: it is the commits' author")?;
    let auth = remote_auth(&args)?;
    let meta = load_aur_metadata(&args.aur_metadata, &args.source).await?;
    let aur = AurContext {
        meta,
        account: args.aur_user.clone(),
    };
    let (rendered, plan, _skipped) = render_all(&args.source, Some(&aur)).await?;
    let order = dependency_order(&rendered);

    let mut run = Run::new(&args, &auth, &identity)?;
    let mut outcomes: Vec<PackageOutcome> = Vec::new();
    let bar = crate::progress::bar("packages", order.len());
    for index in order {
        let outcome = run.package(&rendered[index]).await?;
        tracing::info!(package = %outcome.pkgbase, status = %outcome.status, detail = %outcome.detail);
        outcomes.push(outcome);
        bar.inc(1);
    }
    // The summary line below says what the bar said.
    bar.finish_and_clear();
    outcomes.sort_by(|a, b| a.pkgbase.cmp(&b.pkgbase));
    print_summary(&outcomes, plan.held.len());
    write_report(
        &args.state,
        &SyncReport {
            dry_run: args.dry_run,
            packages: outcomes,
            held: plan.held,
            covered: plan.covered,
        },
    )?;
    Ok(if run.failed.is_empty() {
        Outcome::Clean
    } else {
        Outcome::SomeFailed
    })
}

/// How to reach the server: the operator's key and the host keys to trust.
fn remote_auth(args: &SyncArgs) -> anyhow::Result<RemoteAuth> {
    let pins = match &args.known_hosts {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --known-hosts {}", path.display()))?
            .parse::<PinnedHostKeys>()
            .with_context(|| format!("--known-hosts {} is invalid", path.display()))?,
        None => known_hosts::aur_default(),
    };
    Ok(RemoteAuth {
        ssh_key: args.ssh_key.clone(),
        pins,
    })
}

fn write_report(state: &Path, report: &SyncReport) -> anyhow::Result<()> {
    let mut json = serde_json::to_vec_pretty(report).expect("report serialises");
    json.push(b'\n');
    let path = state.join("report.json");
    crate::fsutil::write_atomically(&path, &json)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// What one run carries from package to package: the record of confirmed pushes, the review
/// queue, and which packages this run did not publish.
struct Run<'a> {
    args: &'a SyncArgs,
    auth: &'a RemoteAuth,
    identity: &'a Identity,
    published_path: PathBuf,
    published: Published,
    queue: Queue,
    queued: BTreeMap<String, Entry>,
    /// Not published this run: failed, or needs a package that did (a failure of the run).
    failed: BTreeSet<String>,
    /// Not published this run: waits for review or was rejected, or needs such a package
    /// (the gate at work, not a failure).
    withheld: BTreeSet<String>,
}

impl<'a> Run<'a> {
    fn new(
        args: &'a SyncArgs,
        auth: &'a RemoteAuth,
        identity: &'a Identity,
    ) -> anyhow::Result<Self> {
        let published_path = args.state.join("published.json");
        let published = load_published(&published_path)?;
        let queue = Queue::new(&args.state);
        let (queued, unreadable) = queue.load()?;
        for (entry, error) in &unreadable {
            tracing::warn!(%entry, %error, "unreadable review entry; its package is reviewed anew");
        }
        Ok(Run {
            args,
            auth,
            identity,
            published_path,
            published,
            queue,
            queued,
            failed: BTreeSet::new(),
            withheld: BTreeSet::new(),
        })
    }

    /// Settles one package, then sets its keywords once the server has confirmed its files.
    async fn package(&mut self, r: &Rendered) -> anyhow::Result<PackageOutcome> {
        let outcome = self.settle(r).await?;
        if !self.args.dry_run && matches!(outcome.status, "pushed" | "unchanged") {
            keywords::set_if_pending(self.args, self.auth, &outcome.pkgbase).await;
        }
        Ok(outcome)
    }

    /// Answers without the server where the run already knows the answer; publishes otherwise.
    async fn settle(&mut self, r: &Rendered) -> anyhow::Result<PackageOutcome> {
        let pkgbase = r.model.pkgname.to_string();
        let waiting_for = among(&r.needs, &self.failed);
        if !waiting_for.is_empty() {
            let detail = format!("needs {} from this run, which failed", join(&waiting_for));
            self.failed.insert(pkgbase);
            return Ok(outcome(r, "waiting", detail));
        }
        let digest = input_digest(r);
        let same_input = self
            .published
            .packages
            .get(&pkgbase)
            .is_some_and(|p| p.input_digest == digest);
        if !self.args.dry_run && same_input {
            forget(&self.queue, &mut self.queued, &pkgbase);
            return Ok(outcome(
                r,
                "unchanged",
                "same input as the last confirmed push".into(),
            ));
        }
        let withheld_deps = among(&r.needs, &self.withheld);
        if !withheld_deps.is_empty() && !same_input {
            // Not for an input already published (also in a dry run): it has nothing to
            // wait for, and a rejected dependency would otherwise keep it waiting for good.
            let detail = format!(
                "needs {}, which is held back for review in this run",
                join(&withheld_deps)
            );
            self.withheld.insert(pkgbase);
            return Ok(outcome(r, "waiting", detail));
        }
        let held = already_held(
            self.args.review.as_ref(),
            self.args.dry_run,
            self.queued.get(&pkgbase),
            &digest,
        );
        if let Some((status, detail)) = held {
            // The server is not asked again: nothing new was proposed since.
            self.withheld.insert(pkgbase);
            return Ok(outcome(r, status, detail));
        }
        self.publish(r, digest).await
    }

    /// Runs `publish_one` on a blocking thread and records what it did.
    async fn publish(&mut self, r: &Rendered, digest: String) -> anyhow::Result<PackageOutcome> {
        let pkgbase = r.model.pkgname.to_string();
        let job = self.job(r, &pkgbase);
        let result = tokio::task::spawn_blocking(move || publish_one(&job))
            .await
            .unwrap_or_else(|e| Err(format!("the publishing task failed: {e}")));
        Ok(match result {
            Ok(Step::Pushed { commit, message }) => {
                self.confirm(&pkgbase, digest, commit)?;
                outcome(r, "pushed", message)
            }
            Ok(Step::Unchanged { commit }) => {
                self.confirm(&pkgbase, digest, commit)?;
                outcome(r, "unchanged", "the server already has these files".into())
            }
            Ok(Step::WouldPush { message, diff }) => {
                // The old side is whatever the server held.
                println!("=== {pkgbase}: {message}\n{}", for_terminal(&diff));
                outcome(r, "would-push", message)
            }
            Ok(Step::Review(held)) => self.hold_for_review(r, digest, held),
            Ok(Step::Rejected { reasons }) => {
                self.withheld.insert(pkgbase);
                outcome(r, "rejected", rejected(&reasons))
            }
            Err(error) => {
                tracing::error!(package = %pkgbase, %error, "publishing failed");
                self.failed.insert(pkgbase);
                outcome(r, "failed", error)
            }
        })
    }

    fn job(&self, r: &Rendered, pkgbase: &str) -> Job {
        let args = self.args;
        Job {
            model: r.model.clone(),
            dir: args.state.join("repos").join(format!("{pkgbase}.git")),
            url: git::remote_url(&args.remote, pkgbase),
            auth: self.auth.clone(),
            identity: self.identity.clone(),
            dry_run: args.dry_run,
            verify_build: args.verify_build,
            gate: args.review.as_ref().map(|policy| Gate {
                policy: policy.clone(),
                proposed: proposed(r),
                decided: self
                    .queued
                    .get(pkgbase)
                    .map(|e| (e.decision, e.files_digest.clone())),
            }),
            keywords_mark: keywords::mark_path(args, self.auth, pkgbase),
        }
    }

    /// Records what the server confirmed for `pkgbase`, on disk at once: a crash after this
    /// point must not make the next run push the same thing again. Then drops its review entry.
    fn confirm(
        &mut self,
        pkgbase: &str,
        input_digest: String,
        commit: String,
    ) -> anyhow::Result<()> {
        self.published.packages.insert(
            pkgbase.to_string(),
            PublishedEntry {
                input_digest,
                commit,
            },
        );
        let json = serde_json::to_vec_pretty(&self.published).expect("published record serialises");
        let path = &self.published_path;
        crate::fsutil::write_atomically(path, &json)
            .with_context(|| format!("cannot write {}", path.display()))?;
        forget(&self.queue, &mut self.queued, pkgbase);
        Ok(())
    }

    /// Shows the held-back change in a dry run; queues it for a maintainer otherwise.
    fn hold_for_review(&mut self, r: &Rendered, digest: String, held: ForReview) -> PackageOutcome {
        let pkgbase = r.model.pkgname.to_string();
        let ForReview {
            message,
            files,
            diff,
            reasons,
        } = held;
        if self.args.dry_run {
            self.withheld.insert(pkgbase.clone());
            let detail = format!("would wait for review: {}", reason_texts(&reasons));
            println!(
                "=== {pkgbase}: {message} ({detail})\n{}",
                for_terminal(&diff)
            );
            return outcome(r, "would-review", detail);
        }
        let detail = waits_for_review(&reasons);
        let entry = Entry {
            pkgbase: pkgbase.clone(),
            pkgver: r.model.pkgver.to_string(),
            message,
            reasons,
            files_digest: queue::files_digest(&files),
            diff,
            input_digest: digest,
            decision: Verdict::Pending,
        };
        match self.queue.write(&entry) {
            Ok(()) => {
                self.queued.insert(pkgbase.clone(), entry);
                self.withheld.insert(pkgbase);
                outcome(r, "review", detail)
            }
            Err(error) => {
                let error = format!("{error:#}; nothing was pushed");
                tracing::error!(package = %pkgbase, %error, "queueing for review failed");
                self.failed.insert(pkgbase);
                outcome(r, "failed", error)
            }
        }
    }
}

fn outcome(r: &Rendered, status: &'static str, detail: String) -> PackageOutcome {
    PackageOutcome {
        pkgbase: r.model.pkgname.to_string(),
        pkgver: r.model.pkgver.to_string(),
        status,
        detail,
    }
}

/// What the gate knows about `pkgbase` without the server: `Some` when the queue already
/// holds this very input, pending or rejected, for reasons the policy still names.
fn already_held(
    policy: Option<&ReviewPolicy>,
    dry_run: bool,
    entry: Option<&Entry>,
    input_digest: &str,
) -> Option<(&'static str, String)> {
    let (policy, entry) = (policy?, entry?);
    let still_named = entry
        .reasons
        .iter()
        .any(|r| policy.changes.contains(&r.kind));
    if dry_run || entry.input_digest != input_digest || !still_named {
        return None;
    }
    match entry.decision {
        Verdict::Pending => Some(("review", waits_for_review(&entry.reasons))),
        Verdict::Rejected => Some(("rejected", rejected(&entry.reasons))),
        // Approved files are pushed, after checking that they are still what is proposed.
        Verdict::Approved => None,
    }
}

fn waits_for_review(reasons: &[Reason]) -> String {
    format!("waits for review: {}", reason_texts(reasons))
}

fn rejected(reasons: &[Reason]) -> String {
    format!("rejected by a maintainer: {}", reason_texts(reasons))
}

fn reason_texts(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| r.text.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Drops the review entry of a package whose state the server has confirmed: whatever it
/// proposed is pushed or moot. Touches the disk only when there is an entry.
fn forget(queue: &Queue, queued: &mut BTreeMap<String, Entry>, pkgbase: &str) {
    if queued.remove(pkgbase).is_some()
        && let Err(error) = queue.remove(pkgbase)
    {
        tracing::warn!(package = %pkgbase, error = %format!("{error:#}"), "cannot remove the review entry");
    }
}

/// What the gate needs to know about a rendered package besides its files.
fn proposed(r: &Rendered) -> Proposed {
    Proposed {
        auth: r.auth.clone(),
        system_deps: r.system_deps.clone(),
    }
}

/// The packages of `needs` that are in `set`, sorted.
fn among<'n>(needs: &'n BTreeSet<String>, set: &BTreeSet<String>) -> Vec<&'n String> {
    needs.iter().filter(|n| set.contains(*n)).collect()
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_summary(outcomes: &[PackageOutcome], held: usize) {
    let count = |s: &str| outcomes.iter().filter(|o| o.status == s).count();
    tracing::info!(
        pushed = count("pushed"),
        unchanged = count("unchanged"),
        would_push = count("would-push"),
        failed = count("failed"),
        waiting = count("waiting"),
        review = count("review"),
        would_review = count("would-review"),
        rejected = count("rejected"),
        held,
        "sync finished"
    );
}

/// Takes the state directory's lock for the whole run (or for `approve`/`reject`); the OS
/// releases it if we die.
fn lock(state: &Path) -> anyhow::Result<File> {
    let path = state.join("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another raku-aur sync is running on {} (it holds {}); this one exits without doing anything",
            state.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Reads the AUR's metadata from a file, or downloads it conditionally through the cache;
/// a download is kept as the last good copy only once it has parsed.
async fn load_aur_metadata(location: &str, source: &SourceArgs) -> anyhow::Result<AurMetadata> {
    let unusable = || {
        format!(
            "the AUR metadata from {location} is unusable; without it nothing can be published safely"
        )
    };
    if !crate::index::is_http_url(location) {
        let bytes = std::fs::read(location)
            .with_context(|| format!("cannot read the AUR metadata {location}"))?;
        return AurMetadata::parse(&bytes).with_context(unusable);
    }
    let client =
        crate::render_cmd::http_client(std::time::Duration::from_secs(source.http_timeout))?;
    let cache = HttpCache::new(&source.cache);
    let doc = cache.get(&client, location).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot get the AUR metadata, so nothing can be published safely and nothing was: {e}"
        )
    })?;
    let meta = AurMetadata::parse(&doc.bytes).with_context(unusable)?;
    if let Err(e) = cache.remember(&doc) {
        tracing::warn!(error = %e, "cannot keep a copy of the AUR metadata");
    }
    Ok(meta)
}

fn load_published(path: &Path) -> anyhow::Result<Published> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is corrupt; move it aside and the next run re-reads every repository",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Published::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// sha256 over the files as rendered (pkgrel 1, no epoch): equal digests mean equal input.
fn input_digest(r: &Rendered) -> String {
    digest(&r.pkgbuild, &r.srcinfo)
}

/// sha256 over a PKGBUILD and a `.SRCINFO`.
fn digest(pkgbuild: &str, srcinfo: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(pkgbuild.as_bytes());
    hash.update([0]);
    hash.update(srcinfo.as_bytes());
    crate::text::hex(&hash.finalize())
}

/// Indexes into `rendered`, every package after the packages it needs; ties by name.
fn dependency_order(rendered: &[Rendered]) -> Vec<usize> {
    let packages: Vec<(&str, &BTreeSet<String>)> = rendered
        .iter()
        .map(|r| (r.model.pkgname.as_ref(), &r.needs))
        .collect();
    crate::plan::order::dependency_order(&packages)
}

/// Everything `publish_one` needs, owned, to run on a blocking thread.
struct Job {
    model: PackageModel,
    dir: PathBuf,
    url: String,
    auth: RemoteAuth,
    identity: Identity,
    dry_run: bool,
    verify_build: bool,
    /// The review gate, when it is on.
    gate: Option<Gate>,
    /// Made before a first push, see [`keywords`]; `None` where no keywords are set.
    keywords_mark: Option<PathBuf>,
}

struct Gate {
    policy: ReviewPolicy,
    proposed: Proposed,
    /// A queued entry's decision and the digest of the files it was about.
    decided: Option<(Verdict, String)>,
}

enum Step {
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
struct ForReview {
    message: String,
    files: Files,
    diff: String,
    reasons: Vec<Reason>,
}

/// Syncs the clone, decides, commits, checks and pushes one package; retries once when
/// someone else pushed in between.
fn publish_one(job: &Job) -> Result<Step, String> {
    match attempt(job) {
        Err(Attempt::NotFastForward(first_error)) => match attempt(job) {
            Err(Attempt::NotFastForward(e)) => Err(format!(
                "the server moved twice while we pushed (first: {first_error}; then: {e}); retrying next run"
            )),
            other => other.map_err(Attempt::into_message),
        },
        other => other.map_err(Attempt::into_message),
    }
}

enum Attempt {
    NotFastForward(String),
    Failed(String),
}

impl Attempt {
    fn into_message(self) -> String {
        match self {
            Attempt::NotFastForward(m) | Attempt::Failed(m) => m,
        }
    }
}

fn attempt(job: &Job) -> Result<Step, Attempt> {
    let failed = |e: &dyn std::fmt::Display| Attempt::Failed(e.to_string());
    let mut repo: PackageRepo =
        git::sync_clone(&job.dir, &job.url, &job.auth).map_err(|e| failed(&e))?;
    let tip = tip_files(&repo);
    let render_files = |m: &PackageModel| -> Result<Files, String> {
        let (pkgbuild, srcinfo) = render::files(m).map_err(|e| e.to_string())?;
        Ok(Files { pkgbuild, srcinfo })
    };
    let decision =
        decide::decide(&job.model, tip.as_ref(), &render_files).map_err(|e| failed(&e))?;
    let (files, message) = match decision {
        Decision::Unchanged => {
            let commit = repo.tip_commit().map(|c| c.to_string()).unwrap_or_default();
            return Ok(Step::Unchanged { commit });
        }
        Decision::Commit { files, message, .. } => (files, message),
    };
    // Decided on each attempt: after a retry the tip, and so the files, may differ from what
    // a maintainer approved.
    if let Some(gate) = &job.gate {
        let reasons = review::reasons(&gate.policy, tip.as_ref(), &files, &gate.proposed);
        if !reasons.is_empty() {
            let digest = queue::files_digest(&files);
            match &gate.decided {
                Some((Verdict::Approved, d)) if *d == digest => {}
                Some((Verdict::Rejected, d)) if *d == digest => {
                    return Ok(Step::Rejected { reasons });
                }
                _ => {
                    let diff = unified_diff(tip.as_ref(), &files);
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
    if job.verify_build {
        verify::build(job.model.pkgname.as_ref(), &files).map_err(Attempt::Failed)?;
    }
    if job.dry_run {
        let diff = unified_diff(tip.as_ref(), &files);
        return Ok(Step::WouldPush { message, diff });
    }
    let first = repo.tip_commit().is_none();
    let committed = repo
        .commit_files(
            &[
                ("PKGBUILD", files.pkgbuild.as_bytes()),
                (".SRCINFO", files.srcinfo.as_bytes()),
            ],
            &message,
            &job.identity,
        )
        .map_err(|e| failed(&e))?;
    let Some(commit) = committed else {
        let commit = repo.tip_commit().map(|c| c.to_string()).unwrap_or_default();
        return Ok(Step::Unchanged { commit });
    };
    let pkgbase = job.model.pkgname.to_string();
    repo.check_aur_rules(&pkgbase).map_err(|problems| {
        Attempt::Failed(format!(
            "the commit breaks the AUR's push rules: {}",
            problems.join("; ")
        ))
    })?;
    if first && let Some(mark) = &job.keywords_mark {
        keywords::mark(mark)
            .map_err(|e| Attempt::Failed(format!("cannot write {}: {e}", mark.display())))?;
    }
    match repo.push(&job.auth) {
        Ok(()) => Ok(Step::Pushed {
            commit: commit.to_string(),
            message,
        }),
        Err(RemoteError::NotFastForward { message }) => Err(Attempt::NotFastForward(message)),
        Err(e) => Err(failed(&e)),
    }
}

fn tip_files(repo: &PackageRepo) -> Option<Files> {
    let text = |name| {
        repo.tip_file(name)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    repo.tip_commit()?;
    Some(Files {
        pkgbuild: text("PKGBUILD").unwrap_or_default(),
        srcinfo: text(".SRCINFO").unwrap_or_default(),
    })
}

/// A unified diff of both files against the tip, for `--dry-run` and the review queue.
fn unified_diff(tip: Option<&Files>, new: &Files) -> String {
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
