//! Opt-in steps past the stale stand-ins, over the AUR's ssh interface: adopt an orphaned
//! stand-in (`[legacy] adopt-orphans`), flag one that is behind the index once
//! (`[legacy] flag-out-of-date`). Each step done is recorded in `STATE/legacy-actions.json`,
//! so a rerun never repeats it, and at most `max-actions-per-run` are taken per run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::legacy::{LegacyAutomation, LegacyEntry, NextStep};
use crate::publish::aur_ssh::{self, AurSsh};

/// A step over the AUR's ssh interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Adopt,
    Flag,
}

/// One step taken (or tried) in this run, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct LegacyAction {
    pub package: String,
    pub action: Step,
    /// `done`, or the server's refusal.
    pub outcome: String,
}

/// What was done in earlier runs: packages adopted, and per package the index version it was
/// flagged for (a newer release may be flagged again).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Done {
    #[serde(default)]
    adopted: BTreeSet<String>,
    #[serde(default)]
    flagged: BTreeMap<String, String>,
}

/// Takes the allowed steps for `entries`, the legacy report of this run. `ssh` builds the
/// connection for a package base (`None`: the remote has no ssh interface).
///
/// # Errors
/// When the record cannot be read or written; a refused step is only reported.
pub(super) fn take_steps(
    state: &Path,
    allowed: LegacyAutomation,
    entries: &[LegacyEntry],
    ssh: impl Fn(&str) -> Option<AurSsh>,
) -> anyhow::Result<Vec<LegacyAction>> {
    let path = state.join("legacy-actions.json");
    let mut done = load(&path)?;
    let mut actions = Vec::new();
    for e in entries {
        if actions.len() >= allowed.max_actions_per_run {
            break;
        }
        let (action, command) = match e.next_step {
            NextStep::Adopt if allowed.adopt_orphans && !done.adopted.contains(&e.package) => {
                (Step::Adopt, aur_ssh::adopt_command(&e.package))
            }
            NextStep::FlagOutOfDate
                if allowed.flag_out_of_date && done.flagged.get(&e.package) != Some(&e.newest) =>
            {
                let comment = format!(
                    "{} {} is released in the Raku ecosystem, the package has {}",
                    e.dist, e.newest, e.version
                );
                (Step::Flag, aur_ssh::flag_command(&e.package, &comment))
            }
            _ => continue,
        };
        let Some(ssh) = ssh(&e.package) else { continue };
        let outcome = command
            .map_err(|e| e.to_string())
            .and_then(|c| ssh.run_command(&c).map_err(|e| e.to_string()));
        let outcome = match outcome {
            Ok(_) => {
                if action == Step::Adopt {
                    done.adopted.insert(e.package.clone());
                } else {
                    done.flagged.insert(e.package.clone(), e.newest.clone());
                }
                save(&path, &done)?;
                "done".to_string()
            }
            Err(refusal) => {
                tracing::warn!(package = %e.package, ?action, %refusal, "the AUR refused");
                refusal
            }
        };
        actions.push(LegacyAction {
            package: e.package.clone(),
            action,
            outcome,
        });
    }
    Ok(actions)
}

fn load(path: &PathBuf) -> anyhow::Result<Done> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is corrupt; move it aside", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Done::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn save(path: &Path, done: &Done) -> anyhow::Result<()> {
    let mut json = serde_json::to_vec_pretty(done).expect("the record serialises");
    json.push(b'\n');
    crate::fsutil::write_atomically(path, &json)
        .with_context(|| format!("cannot write {}", path.display()))
}
