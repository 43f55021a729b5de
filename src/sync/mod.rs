//! `raku-aur sync`: publishes rendered packages to the AUR, one git repository each.
//!
//! Per run: take the state lock; read the AUR's metadata; render everything in memory
//! (distributions the AUR already ships are left to it, dangling dependencies hold packages
//! back); then, dependencies first, bring each package's clone to the server's tip, commit
//! what changed, check the AUR's push rules locally, and push. One package's failure is
//! recorded and the run goes on; packages that need a failed one wait for the next run. The
//! record of what was published (`published.json`) only advances after a confirmed push.

pub mod decide;
pub mod keywords;
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
use decide::{Decision, Files};

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
    /// pushed / unchanged / would-push / failed / waiting
    pub status: &'static str,
    /// The commit message, the error, or what it waits for.
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
    // A run killed while writing published.json or report.json leaves a temporary file.
    crate::fsutil::remove_stale_temp_files(&args.state)
        .with_context(|| format!("cannot clean up {}", args.state.display()))?;
    if args.verify_build {
        verify::check_usable().map_err(anyhow::Error::msg)?;
    }
    let identity: Identity = args
        .source
        .maintainer
        .parse()
        .context("--maintainer must be `Name <email>`: it is the commits' author")?;
    let pins = match &args.known_hosts {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --known-hosts {}", path.display()))?
            .parse::<PinnedHostKeys>()
            .with_context(|| format!("--known-hosts {} is invalid", path.display()))?,
        None => known_hosts::aur_default(),
    };
    let auth = RemoteAuth {
        ssh_key: args.ssh_key.clone(),
        pins,
    };
    let meta = load_aur_metadata(&args.aur_metadata, &args.source).await?;
    let aur = AurContext {
        meta,
        account: args.aur_user.clone(),
    };
    let (rendered, plan, _skipped) = render_all(&args.source, Some(&aur)).await?;
    let order = dependency_order(&rendered);

    let published_path = args.state.join("published.json");
    let mut published = load_published(&published_path)?;
    let mut outcomes: Vec<PackageOutcome> = Vec::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    for index in order {
        let r = &rendered[index];
        let pkgbase = r.model.pkgname.to_string();
        let waiting_for: Vec<&String> = r.needs.iter().filter(|n| failed.contains(*n)).collect();
        let outcome = if !waiting_for.is_empty() {
            failed.insert(pkgbase.clone());
            outcome(
                r,
                "waiting",
                format!("needs {} from this run, which failed", join(&waiting_for)),
            )
        } else {
            let digest = input_digest(r);
            let recorded = published.packages.get(&pkgbase);
            if !args.dry_run && recorded.is_some_and(|p| p.input_digest == digest) {
                outcome(
                    r,
                    "unchanged",
                    "same input as the last confirmed push".into(),
                )
            } else {
                let job = Job {
                    model: r.model.clone(),
                    dir: args.state.join("repos").join(format!("{pkgbase}.git")),
                    url: git::remote_url(&args.remote, &pkgbase),
                    auth: auth.clone(),
                    identity: identity.clone(),
                    dry_run: args.dry_run,
                    verify_build: args.verify_build,
                    keywords_mark: keywords::mark_path(&args, &auth, &pkgbase),
                };
                let result = tokio::task::spawn_blocking(move || publish_one(&job))
                    .await
                    .unwrap_or_else(|e| Err(format!("the publishing task failed: {e}")));
                match result {
                    Ok(Step::Pushed { commit, message }) => {
                        confirm(&mut published, &published_path, &pkgbase, digest, commit)?;
                        outcome(r, "pushed", message)
                    }
                    Ok(Step::Unchanged { commit }) => {
                        confirm(&mut published, &published_path, &pkgbase, digest, commit)?;
                        outcome(r, "unchanged", "the server already has these files".into())
                    }
                    Ok(Step::WouldPush { message, diff }) => {
                        println!("=== {pkgbase}: {message}\n{diff}");
                        outcome(r, "would-push", message)
                    }
                    Err(error) => {
                        tracing::error!(package = %pkgbase, %error, "publishing failed");
                        failed.insert(pkgbase.clone());
                        outcome(r, "failed", error)
                    }
                }
            }
        };
        if !args.dry_run && matches!(outcome.status, "pushed" | "unchanged") {
            keywords::set_if_pending(&args, &auth, &pkgbase).await;
        }
        tracing::info!(package = %outcome.pkgbase, status = %outcome.status, detail = %outcome.detail);
        outcomes.push(outcome);
    }
    outcomes.sort_by(|a, b| a.pkgbase.cmp(&b.pkgbase));
    let any_failed = outcomes
        .iter()
        .any(|o| matches!(o.status, "failed" | "waiting"));
    print_summary(&outcomes, plan.held.len());
    let report = SyncReport {
        dry_run: args.dry_run,
        packages: outcomes,
        held: plan.held,
        covered: plan.covered,
    };
    let mut json = serde_json::to_vec_pretty(&report).expect("report serialises");
    json.push(b'\n');
    let report_path = args.state.join("report.json");
    crate::fsutil::write_atomically(&report_path, &json)
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    Ok(if any_failed {
        Outcome::SomeFailed
    } else {
        Outcome::Clean
    })
}

fn outcome(r: &Rendered, status: &'static str, detail: String) -> PackageOutcome {
    PackageOutcome {
        pkgbase: r.model.pkgname.to_string(),
        pkgver: r.model.pkgver.to_string(),
        status,
        detail,
    }
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
        held,
        "sync finished"
    );
}

/// Takes the state directory's lock for the whole run; the OS releases it if we die.
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
    if !(location.starts_with("https://") || location.starts_with("http://")) {
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

/// Records what the server confirmed for `pkgbase`, on disk at once: a crash after this point
/// must not make the next run push the same thing again.
fn confirm(
    published: &mut Published,
    path: &Path,
    pkgbase: &str,
    input_digest: String,
    commit: String,
) -> anyhow::Result<()> {
    published.packages.insert(
        pkgbase.to_string(),
        PublishedEntry {
            input_digest,
            commit,
        },
    );
    let json = serde_json::to_vec_pretty(published).expect("published record serialises");
    crate::fsutil::write_atomically(path, &json)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// sha256 over the files as rendered (pkgrel 1, no epoch): equal digests mean equal input.
fn input_digest(r: &Rendered) -> String {
    let mut hash = Sha256::new();
    hash.update(r.pkgbuild.as_bytes());
    hash.update([0]);
    hash.update(r.srcinfo.as_bytes());
    crate::text::hex(&hash.finalize())
}

/// Indexes into `rendered`, every package after the packages it needs; ties by name.
fn dependency_order(rendered: &[Rendered]) -> Vec<usize> {
    let by_name: BTreeMap<String, usize> = rendered
        .iter()
        .enumerate()
        .map(|(i, r)| (r.model.pkgname.to_string(), i))
        .collect();
    let needs: Vec<BTreeSet<usize>> = rendered
        .iter()
        .map(|r| {
            r.needs
                .iter()
                .filter_map(|n| by_name.get(n).copied())
                .collect()
        })
        .collect();
    let mut done = vec![false; rendered.len()];
    let mut order = Vec::with_capacity(rendered.len());
    while order.len() < rendered.len() {
        let ready: Vec<usize> = (0..rendered.len())
            .filter(|&i| !done[i] && needs[i].iter().all(|&n| done[n] || n == i))
            .collect();
        // A dependency cycle: take the first remaining package by name so the run goes on.
        let batch = if ready.is_empty() {
            vec![
                (0..rendered.len())
                    .find(|&i| !done[i])
                    .expect("some package remains"),
            ]
        } else {
            ready
        };
        for i in batch {
            done[i] = true;
            order.push(i);
        }
    }
    order
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
    /// Made before a first push, see [`keywords`]; `None` where no keywords are set.
    keywords_mark: Option<PathBuf>,
}

enum Step {
    Pushed { commit: String, message: String },
    Unchanged { commit: String },
    WouldPush { message: String, diff: String },
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

/// A unified diff of both files against the tip, for `--dry-run`.
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
