//! The per-package state machine of a run: answer without the server where the run already
//! knows (a failed dependency, the same input as the last confirmed push, a change already
//! queued for review), publish otherwise, and record what the server confirmed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use super::job::{ForReview, Gate, Job, PublishError, Step, publish_one};
use super::pace::Paced;
use super::record::{Confirmed, PublishedRecord};
use super::{PackageOutcome, PackageStatus, keywords};
use crate::build::Farm;
use crate::pipeline::Rendered;
use crate::publish::git::{self, Identity, RemoteAuth, RemoteError};
use crate::review::queue::{self, Entry, Queue, Verdict};
use crate::review::{Proposed, Reason, ReviewPolicy};
use crate::settings::SyncSettings;
use crate::text::for_terminal;

/// What one run carries from package to package: the record of confirmed pushes, the review
/// queue, and which packages this run did not publish.
pub(super) struct Run<'a> {
    settings: &'a SyncSettings,
    auth: &'a RemoteAuth,
    identity: &'a Identity,
    published: PublishedRecord,
    queue: Queue,
    queued: BTreeMap<String, Entry>,
    /// Not published this run: failed, or needs a package that did (a failure of the run).
    failed: BTreeSet<String>,
    /// Not published this run: waits for review or was rejected, or needs such a package
    /// (the gate at work, not a failure).
    withheld: BTreeSet<String>,
    /// Packages in a row whose server could not be reached; see [`UNREACHABLE_IN_A_ROW`].
    unreachable_in_a_row: usize,
    /// New packages the publication pace leaves for later runs.
    paced: Paced,
    max_new_per_run: usize,
    /// The build farm, when packages are built before they are pushed.
    farm: Option<Arc<Mutex<Farm>>>,
}

/// After this many packages in a row found the server unreachable, the rest are not tried:
/// a server that is down for one is down for all, and every attempt waits for a timeout.
const UNREACHABLE_IN_A_ROW: usize = 3;

impl<'a> Run<'a> {
    pub(super) fn new(
        settings: &'a SyncSettings,
        auth: &'a RemoteAuth,
        identity: &'a Identity,
        published: PublishedRecord,
        paced: Paced,
        farm: Option<Arc<Mutex<Farm>>>,
    ) -> anyhow::Result<Self> {
        let queue = Queue::new(&settings.state);
        let (queued, unreadable) = queue.load()?;
        for (entry, error) in &unreadable {
            tracing::warn!(%entry, %error, "unreadable review entry; its package is reviewed anew");
        }
        Ok(Run {
            settings,
            auth,
            identity,
            published,
            queue,
            queued,
            failed: BTreeSet::new(),
            withheld: BTreeSet::new(),
            unreachable_in_a_row: 0,
            paced,
            max_new_per_run: settings.options.max_new_per_run,
            farm,
        })
    }

    /// Whether every package this run took on was done (or withheld by the gate).
    pub(super) fn nothing_failed(&self) -> bool {
        self.failed.is_empty()
    }

    /// Settles one package, then sets its keywords once the server has confirmed its files.
    pub(super) async fn package(&mut self, r: &Rendered) -> anyhow::Result<PackageOutcome> {
        let outcome = self.settle(r).await?;
        if !self.settings.options.dry_run && outcome.status.is_on_server() {
            keywords::set_if_pending(self.settings, self.auth, &outcome.pkgbase).await;
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
            return Ok(outcome(r, PackageStatus::Waiting, detail));
        }
        let digest = input_digest(r);
        // With a farm, the same input also has to be in our repository (it may predate the
        // farm, or today's rakudo).
        let same_input = self.published.holds_input(&pkgbase, &digest)
            && self.farm.as_ref().is_none_or(|farm| {
                farm.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_current(&pkgbase, &digest)
            });
        if self.unreachable_in_a_row >= UNREACHABLE_IN_A_ROW && !same_input {
            let detail = format!(
                "not tried: the server was unreachable for the last {UNREACHABLE_IN_A_ROW} \
                 packages; the next run retries"
            );
            self.failed.insert(pkgbase);
            return Ok(outcome(r, PackageStatus::Failed, detail));
        }
        if !self.settings.options.dry_run && same_input {
            forget(&self.queue, &mut self.queued, &pkgbase);
            return Ok(outcome(
                r,
                PackageStatus::Unchanged,
                "same input as the last confirmed push".into(),
            ));
        }
        if self.paced.later.contains(&pkgbase) {
            // Not a failure: the pace lets it up in a later run.
            let detail = format!(
                "waiting: publication pace ({} new packages per run; the new packages need {} runs)",
                self.max_new_per_run, self.paced.runs
            );
            self.withheld.insert(pkgbase);
            return Ok(outcome(r, PackageStatus::Waiting, detail));
        }
        let withheld_deps = among(&r.needs, &self.withheld);
        if !withheld_deps.is_empty() && !same_input {
            // Not for an input already published (also in a dry run): it has nothing to
            // wait for, and a rejected dependency would otherwise keep it waiting for good.
            let detail = format!(
                "needs {}, which is held back for review or waits for the publication pace in \
                 this run",
                join(&withheld_deps)
            );
            self.withheld.insert(pkgbase);
            return Ok(outcome(r, PackageStatus::Waiting, detail));
        }
        let held = already_held(
            self.settings.options.review.as_ref(),
            self.settings.options.dry_run,
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
        let job = self.job(r, &pkgbase, digest.clone());
        let result = tokio::task::spawn_blocking(move || publish_one(&job))
            .await
            .unwrap_or_else(|e| Err(PublishError::Task(e.to_string())));
        match &result {
            Err(error) => self.stop_if_run_wide(error)?,
            Ok(_) => self.unreachable_in_a_row = 0,
        }
        Ok(match result {
            Ok(Step::Pushed { commit, message }) => {
                self.confirm(r, digest, commit, Some(message.clone()))?;
                outcome(r, PackageStatus::Pushed, message)
            }
            Ok(Step::Unchanged { commit }) => {
                self.confirm(r, digest, commit, None)?;
                outcome(
                    r,
                    PackageStatus::Unchanged,
                    "the server already has these files".into(),
                )
            }
            Ok(Step::WouldPush { message, diff }) => {
                // The old side is whatever the server held.
                println!("=== {pkgbase}: {message}\n{}", for_terminal(&diff));
                outcome(r, PackageStatus::WouldPush, message)
            }
            Ok(Step::Review(held)) => self.hold_for_review(r, digest, held),
            Ok(Step::Rejected { reasons }) => {
                self.withheld.insert(pkgbase);
                outcome(r, PackageStatus::Rejected, rejected(&reasons))
            }
            Err(error) => {
                tracing::error!(package = %pkgbase, %error, "publishing failed");
                self.failed.insert(pkgbase);
                outcome(r, PackageStatus::Failed, error.to_string())
            }
        })
    }

    /// A failure that is not this package's: a host key no pin accepts, or our own key
    /// refused, would fail every package the same way, so the run stops at once and says what
    /// to do (no further connection is made). An unreachable server is counted instead.
    fn stop_if_run_wide(&mut self, error: &PublishError) -> anyhow::Result<()> {
        let options = &self.settings.options;
        match error.remote() {
            Some(RemoteError::HostKey(e)) => anyhow::bail!(
                "{e}; the run stops here and nothing more is sent to it. If the server's owner \
                 announced a new key, pin it in the known-hosts file ({}); otherwise find out who \
                 answers in its place",
                options.known_hosts.as_deref().map_or_else(
                    || "default: the AUR's keys shipped in keys/".to_string(),
                    |p| p.display().to_string()
                )
            ),
            Some(RemoteError::Auth { message }) => anyhow::bail!(
                "the server refused our ssh key ({}): {message}; the run stops here. Check \
                 ssh-key, and that its public half is registered with the AUR account {}",
                options
                    .ssh_key
                    .as_deref()
                    .map_or_else(|| "none is set".to_string(), |p| p.display().to_string()),
                self.settings.aur_user
            ),
            Some(RemoteError::Unreachable(_)) => self.unreachable_in_a_row += 1,
            _ => self.unreachable_in_a_row = 0,
        }
        Ok(())
    }

    fn job(&self, r: &Rendered, pkgbase: &str, input_digest: String) -> Job {
        let settings = self.settings;
        Job {
            model: r.model.clone(),
            dir: settings.state.join("repos").join(format!("{pkgbase}.git")),
            url: git::remote_url(&settings.options.remote, pkgbase),
            auth: self.auth.clone(),
            identity: self.identity.clone(),
            dry_run: settings.options.dry_run,
            farm: self.farm.clone(),
            input_digest,
            gate: settings.options.review.as_ref().map(|policy| Gate {
                policy: policy.clone(),
                proposed: proposed(r),
                decided: self
                    .queued
                    .get(pkgbase)
                    .map(|e| (e.decision, e.files_digest.clone())),
            }),
            keywords_mark: keywords::mark_path(settings, self.auth, pkgbase),
        }
    }

    /// Records what the server confirmed for `pkgbase`, on disk at once: a crash after this
    /// point must not make the next run push the same thing again. Then drops its review entry.
    fn confirm(
        &mut self,
        r: &Rendered,
        input_digest: String,
        commit: String,
        pushed: Option<String>,
    ) -> anyhow::Result<()> {
        let pkgbase = r.model.pkgname.as_ref();
        let input = Confirmed {
            input_digest,
            commit,
            scripts: r.model.build.bin_scripts.clone(),
            pkgver: r.model.pkgver.to_string(),
        };
        self.published.confirm(pkgbase, input, pushed)?;
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
        if self.settings.options.dry_run {
            self.withheld.insert(pkgbase.clone());
            let detail = format!("would wait for review: {}", reason_texts(&reasons));
            println!(
                "=== {pkgbase}: {message} ({detail})\n{}",
                for_terminal(&diff)
            );
            return outcome(r, PackageStatus::WouldReview, detail);
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
                outcome(r, PackageStatus::Review, detail)
            }
            Err(error) => {
                let error = format!("{error:#}; nothing was pushed");
                tracing::error!(package = %pkgbase, %error, "queueing for review failed");
                self.failed.insert(pkgbase);
                outcome(r, PackageStatus::Failed, error)
            }
        }
    }
}

fn outcome(r: &Rendered, status: PackageStatus, detail: String) -> PackageOutcome {
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
) -> Option<(PackageStatus, String)> {
    let (policy, entry) = (policy?, entry?);
    let still_named = entry
        .reasons
        .iter()
        .any(|r| policy.changes.contains(&r.kind));
    if dry_run || entry.input_digest != input_digest || !still_named {
        return None;
    }
    match entry.decision {
        Verdict::Pending => Some((PackageStatus::Review, waits_for_review(&entry.reasons))),
        Verdict::Rejected => Some((PackageStatus::Rejected, rejected(&entry.reasons))),
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
        adopted: !r.model.provides.is_empty(),
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

/// sha256 over the files as rendered (pkgrel 1, no epoch): equal digests mean equal input.
fn input_digest(r: &Rendered) -> String {
    crate::render::digest(&r.pkgbuild, &r.srcinfo)
}
