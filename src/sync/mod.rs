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
mod legacy_actions;
mod pace;
mod record;
mod run;
mod stand_in_record;
mod status;
#[cfg(test)]
mod strangers_tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use serde::Serialize;

use crate::build::{BuildInputs, Farm};
use crate::pipeline::{AurContext, Rendered, render_all};
use crate::publish::git::{Identity, RemoteAuth};
use crate::publish::known_hosts::{self, PinnedHostKeys};
use crate::review::queue;
use crate::settings::SyncSettings;
use legacy_actions::LegacyAction;
use record::PublishedRecord;
pub use record::{Published, Push, read as read_published};
use run::Run;
use stand_in_record::StandInRecord;
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

/// `report.json` in the state directory: every list sorted (see [`write_report`]).
#[derive(Debug, Serialize)]
pub struct SyncReport {
    pub dry_run: bool,
    pub packages: Vec<PackageOutcome>,
    pub held: Vec<crate::plan::Held>,
    pub covered: Vec<crate::plan::Covered>,
    pub pace: PaceReport,
    /// Our packages that replace a stand-in that left the AUR (they provide and conflict
    /// with its name).
    pub replaced: Vec<Replaced>,
    /// Packages we published whose distribution is no longer in the index: candidates for a
    /// deletion request.
    pub gone_from_index: Vec<String>,
    /// Steps taken past stale stand-ins over the AUR's ssh interface (`[legacy]`).
    pub legacy_actions: Vec<LegacyAction>,
}

/// Adopts orphaned stand-ins and flags stale ones, as far as `[legacy]` allows.
fn legacy_steps(
    settings: &SyncSettings,
    auth: &RemoteAuth,
    aur: &AurContext,
    plan: &crate::plan::Plan,
) -> anyhow::Result<Vec<LegacyAction>> {
    let allowed = settings.options.legacy;
    if !(allowed.adopt_orphans || allowed.flag_out_of_date) {
        return Ok(Vec::new());
    }
    let entries = crate::pipeline::legacy_report(plan, aur, Some(&settings.aur_user));
    legacy_actions::take_steps(&settings.state, allowed, &entries, |pkgbase| {
        keywords::aur_ssh(settings, auth, pkgbase)
    })
}

/// What sync's records in `state` tell `raku-aur build`, which plans as sync does.
///
/// # Errors
/// When a record cannot be read.
pub fn build_inputs(state: &Path) -> anyhow::Result<BuildInputs> {
    let published = PublishedRecord::load(state)?;
    Ok(BuildInputs {
        published_scripts: published.scripts(),
        stand_ins_seen: StandInRecord::load(state)?.seen().clone(),
    })
}

/// One of our packages replacing a vanished stand-in.
#[derive(Debug, Serialize)]
pub struct Replaced {
    pub pkgbase: String,
    pub replaces: String,
}

/// How the publication pace split this run's new packages.
#[derive(Debug, Serialize)]
pub struct PaceReport {
    pub max_new_per_run: usize,
    /// New packages this run may publish.
    pub new_this_run: usize,
    /// New packages left for later runs.
    pub waiting: usize,
    /// Runs, this one included, that the new packages need at this pace.
    pub runs_needed: usize,
}

/// Splits the new packages (neither recorded as published nor ours on the AUR) into those
/// this run publishes and those that wait (see [`pace`]).
fn pace_new_packages(
    rendered: &[Rendered],
    published: &PublishedRecord,
    aur: &AurContext,
    max_new: usize,
) -> pace::Paced {
    let ours = aur.meta.versions_of(&aur.account);
    let needs: BTreeMap<String, BTreeSet<String>> = rendered
        .iter()
        .map(|r| (r.model.pkgname.to_string(), r.needs.clone()))
        .collect();
    let new: BTreeSet<String> = needs
        .keys()
        .filter(|name| !published.has(name) && !ours.contains_key(*name))
        .cloned()
        .collect();
    pace::pace(&needs, &new, max_new)
}

/// What a run ended with, and what it published from: the status site is made from it.
pub struct Synced {
    pub outcome: RunOutcome,
    pub rendered: Vec<Rendered>,
    pub plan: crate::plan::Plan,
    /// What the AUR says of the packages covering distributions, for the status site.
    pub stand_ins: std::collections::BTreeMap<String, crate::legacy::AurFacts>,
}

/// `raku-aur sync`.
pub async fn run(settings: &SyncSettings) -> anyhow::Result<Synced> {
    // A run killed while writing published.json, report.json or a review entry leaves a
    // temporary file.
    let _lock = crate::fsutil::take_state_dir(&settings.state, &[queue::DIR])?;
    // A signing key that cannot sign, or a rakudo that cannot be told, stops the run here,
    // before anything is built or pushed. A dry run builds nothing.
    let farm = match &settings.options.build {
        Some(build) if !settings.options.dry_run => Some(Arc::new(Mutex::new(Farm::open(
            build,
            &settings.state,
            crate::clock::unix_now(),
        )?))),
        _ => None,
    };
    let identity: Identity = settings
        .options
        .source
        .maintainer
        .parse()
        .context("--maintainer must be `Name <email>`: it is the commits' author")?;
    let auth = remote_auth(settings)?;
    let meta = crate::pipeline::load_aur_metadata(
        &settings.options.aur_metadata,
        &settings.options.source,
    )
    .await?;
    let published = PublishedRecord::load(&settings.state)?;
    let mut stand_ins = StandInRecord::load(&settings.state)?;
    let aur = AurContext {
        meta,
        account: settings.aur_user.clone(),
        stand_ins: settings.options.stand_ins.clone(),
        published_scripts: published.scripts(),
        stand_ins_seen: stand_ins.seen().clone(),
    };
    let (rendered, plan, _skipped) = render_all(&settings.options.source, Some(&aur)).await?;
    let replaced: Vec<Replaced> = plan
        .replaced
        .iter()
        .map(|(pkgbase, replaces)| Replaced {
            pkgbase: pkgbase.clone(),
            replaces: replaces.clone(),
        })
        .collect();
    let legacy_actions = if settings.options.dry_run {
        Vec::new()
    } else {
        legacy_steps(settings, &auth, &aur, &plan)?
    };
    let gone_from_index: Vec<String> = published
        .names()
        .filter(|name| !plan.index_names.contains(*name))
        .cloned()
        .collect();
    for pkgbase in &gone_from_index {
        tracing::warn!(package = %pkgbase, "published, but gone from the index: ask the AUR to delete it");
    }
    if !settings.options.dry_run {
        stand_ins.remember(plan.covered.iter().map(|c| (c.name.clone(), c.by.clone())))?;
    }
    let order = crate::pipeline::dependencies_first(&rendered);

    let paced = pace_new_packages(
        &rendered,
        &published,
        &aur,
        settings.options.max_new_per_run,
    );
    if !paced.later.is_empty() {
        tracing::info!(
            now = paced.now.len(),
            later = paced.later.len(),
            runs = paced.runs,
            "new packages are paced; the rest wait for later runs"
        );
    }
    let pace = PaceReport {
        max_new_per_run: settings.options.max_new_per_run,
        new_this_run: paced.now.len(),
        waiting: paced.later.len(),
        runs_needed: paced.runs,
    };
    // ~100,000 packages' names and versions: not needed past planning and pacing.
    let stand_ins = crate::legacy::stand_in_facts(&plan, |name| aur.meta.facts(name));
    drop(aur);
    // The repository keeps every distribution of the index, in scope of `--only` or not.
    let keep_in_repo: BTreeSet<String> = rendered
        .iter()
        .map(|r| r.model.pkgname.to_string())
        .chain(plan.index_names.iter().cloned())
        .collect();
    let mut run = Run::new(settings, &auth, &identity, published, paced, farm.clone())?;
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
    let mut repository_failed = false;
    if let Some(farm) = &farm {
        let mut farm = farm.lock().unwrap_or_else(PoisonError::into_inner);
        match farm.remove_all_but(&keep_in_repo) {
            Ok(removed) => {
                for name in removed {
                    tracing::info!(package = %name, "removed from our repository: its distribution left the index");
                }
            }
            Err(error) => {
                tracing::error!(%error, "cannot remove packages whose distribution left the index from our repository");
                repository_failed = true;
            }
        }
    }
    print_summary(&outcomes, plan.held.len());
    write_report(
        &settings.state,
        SyncReport {
            dry_run: settings.options.dry_run,
            packages: outcomes,
            held: plan.held.clone(),
            covered: plan.covered.clone(),
            pace,
            replaced,
            gone_from_index,
            legacy_actions,
        },
    )?;
    let outcome = if run.nothing_failed() && !repository_failed {
        RunOutcome::Clean
    } else {
        RunOutcome::SomeFailed
    };
    Ok(Synced {
        outcome,
        rendered,
        plan,
        stand_ins,
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

/// Writes `report` with every list sorted (packages by pkgbase, the rest by their fields in
/// order), so that the same run gives the same bytes whatever the order it went in.
fn write_report(state: &Path, mut report: SyncReport) -> anyhow::Result<()> {
    report.packages.sort_by(|a, b| a.pkgbase.cmp(&b.pkgbase));
    report.held.sort();
    report.covered.sort();
    let mut json = serde_json::to_vec_pretty(&report).expect("report serialises");
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
