//! `raku-aur sync`: publishes rendered packages to the AUR, one git repository each.
//!
//! Per run: take the state lock; read the AUR's metadata; render everything in memory
//! (distributions the AUR already ships are left to it, dangling dependencies hold packages
//! back); then, dependencies first, bring each package's clone to the server's tip, commit
//! what changed, check the AUR's push rules locally, and push. One package's failure is
//! recorded and the run goes on; packages that need a failed one wait for the next run. The
//! record of what was published (`published.json`) only advances after a confirmed push.
//!
//! With a review policy ([`crate::settings::SyncOptions::review`]), a change of a kind the
//! policy names is not pushed: it waits in the review queue ([`crate::review::queue`]) until a
//! maintainer approves
//! exactly those files, and the packages that need it wait with it. Without a policy the queue
//! is not consulted.

mod job;
mod keywords;
mod pkgrel;
mod record;
mod run;
mod status;
#[cfg(test)]
mod strangers_tests;
mod verify;

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::aur::AurMetadata;
use crate::fetch::HttpCache;
use crate::pipeline::{AurContext, render_all};
use crate::publish::git::{Identity, RemoteAuth};
use crate::publish::known_hosts::{self, PinnedHostKeys};
use crate::review::queue;
use crate::settings::{SourceSettings, SyncSettings};
use run::Run;
pub use status::PackageStatus;

/// How the run ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
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
    pub status: PackageStatus,
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

/// `raku-aur sync`.
pub async fn run(settings: &SyncSettings) -> anyhow::Result<RunOutcome> {
    std::fs::create_dir_all(&settings.state).with_context(|| {
        format!(
            "cannot create the state directory {}",
            settings.state.display()
        )
    })?;
    let _lock = crate::fsutil::lock_state_dir(&settings.state)?;
    // A run killed while writing published.json, report.json or a review entry leaves a
    // temporary file.
    for dir in [settings.state.clone(), settings.state.join(queue::DIR)] {
        crate::fsutil::remove_stale_temp_files(&dir)
            .with_context(|| format!("cannot clean up {}", dir.display()))?;
    }
    if settings.options.verify_build {
        verify::check_usable().map_err(anyhow::Error::msg)?;
    }
    let identity: Identity = settings
        .options
        .source
        .maintainer
        .parse()
        .context("--maintainer must be `Name <email>`: it is the commits' author")?;
    let auth = remote_auth(settings)?;
    let meta = load_aur_metadata(&settings.options.aur_metadata, &settings.options.source).await?;
    let aur = AurContext {
        meta,
        account: settings.aur_user.clone(),
    };
    let (rendered, plan, _skipped) = render_all(&settings.options.source, Some(&aur)).await?;
    // ~100,000 packages' names and versions: not needed past planning.
    drop(aur);
    let needs: Vec<(&str, &BTreeSet<String>)> = rendered
        .iter()
        .map(|r| (r.model.pkgname.as_ref(), &r.needs))
        .collect();
    let order = crate::plan::order::dependency_order(&needs);

    let mut run = Run::new(settings, &auth, &identity)?;
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
        &settings.state,
        &SyncReport {
            dry_run: settings.options.dry_run,
            packages: outcomes,
            held: plan.held,
            covered: plan.covered,
        },
    )?;
    Ok(if run.nothing_failed() {
        RunOutcome::Clean
    } else {
        RunOutcome::SomeFailed
    })
}

/// How to reach the server: the operator's key and the host keys to trust.
fn remote_auth(settings: &SyncSettings) -> anyhow::Result<RemoteAuth> {
    let pins = match &settings.options.known_hosts {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --known-hosts {}", path.display()))?
            .parse::<PinnedHostKeys>()
            .with_context(|| format!("--known-hosts {} is invalid", path.display()))?,
        None => known_hosts::aur_default(),
    };
    Ok(RemoteAuth {
        ssh_key: settings.options.ssh_key.clone(),
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

fn print_summary(outcomes: &[PackageOutcome], held: usize) {
    let count = |s: PackageStatus| outcomes.iter().filter(|o| o.status == s).count();
    tracing::info!(
        pushed = count(PackageStatus::Pushed),
        unchanged = count(PackageStatus::Unchanged),
        would_push = count(PackageStatus::WouldPush),
        failed = count(PackageStatus::Failed),
        waiting = count(PackageStatus::Waiting),
        review = count(PackageStatus::Review),
        would_review = count(PackageStatus::WouldReview),
        rejected = count(PackageStatus::Rejected),
        held,
        "sync finished"
    );
}

/// Reads the AUR's metadata from a file, or downloads it conditionally through the cache;
/// a download is kept as the last good copy only once it has parsed.
async fn load_aur_metadata(location: &str, source: &SourceSettings) -> anyhow::Result<AurMetadata> {
    let unusable = || {
        format!(
            "the AUR metadata from {location} is unusable; without it nothing can be published safely"
        )
    };
    if !crate::urls::is_http_url(location) {
        let file = std::fs::File::open(location)
            .with_context(|| format!("cannot read the AUR metadata {location}"))?;
        let meta = AurMetadata::read(file).with_context(unusable)?;
        log_skipped(&meta);
        return Ok(meta);
    }
    let client = crate::pipeline::http_client(source.http_timeout)?;
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
    log_skipped(&meta);
    Ok(meta)
}

/// Raku-related entries of the metadata that cannot be read stand in for nothing; the
/// operator hears which.
fn log_skipped(meta: &AurMetadata) {
    for entry in meta.skipped() {
        tracing::warn!(package = %entry.name, reason = %entry.reason, "AUR package skipped");
    }
}
