//! `raku-aur build`: every package whose input changed (or that the repository lacks, or
//! that predates today's rakudo) built in dependency order and added to our repository;
//! nothing is pushed to the AUR. The files built are those the next sync would push: the
//! pkgrel and epoch are decided against each package's local clone, as sync last saw the
//! AUR.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;

use super::farm::{Built, Farm};
use crate::aur_tip::PublishedPackage;
use crate::pipeline::{AurContext, Rendered, render_all};
use crate::pkgrel::{self, TipUpdate};
use crate::publish::git::PackageRepo;
use crate::render::{self, Files, model::PackageModel};
use crate::settings::BuildRunSettings;

/// What sync's records say, which planning needs as sync would plan.
#[derive(Debug, Default)]
pub struct BuildInputs {
    /// Scripts of every package sync published (conflicts come from all of them).
    pub published_scripts: BTreeMap<String, Vec<String>>,
    /// Every distribution an AUR package has stood in for, and which package.
    pub stand_ins_seen: BTreeMap<String, String>,
}

/// How a build run ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildOutcome {
    Clean,
    SomeFailed,
}

/// `raku-aur build`.
pub async fn run(settings: &BuildRunSettings, inputs: BuildInputs) -> anyhow::Result<BuildOutcome> {
    let state = &settings.state;
    let _lock = crate::fsutil::take_state_dir(state, &[])?;
    let mut farm = Farm::open(&settings.build, state, crate::clock::unix_now())?;
    let meta = crate::pipeline::load_aur_metadata(&settings.aur_metadata, &settings.source).await?;
    let aur = AurContext {
        meta,
        account: settings.aur_user.clone(),
        stand_ins: settings.stand_ins.clone(),
        published_scripts: inputs.published_scripts,
        stand_ins_seen: inputs.stand_ins_seen,
    };
    let (rendered, plan, _skipped) = render_all(&settings.source, Some(&aur)).await?;
    drop(aur);
    let order = crate::pipeline::dependencies_first(&rendered);
    let state = state.clone();
    let (farm, lines, failed) = tokio::task::spawn_blocking(move || {
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut lines = Vec::new();
        for index in order {
            let r = &rendered[index];
            let pkgbase = r.model.pkgname.to_string();
            let line = match build_one(&mut farm, &state, r, &failed) {
                Ok(line) => line,
                Err(line) => {
                    failed.insert(pkgbase.clone());
                    line
                }
            };
            tracing::info!(package = %pkgbase, "{line}");
            lines.push(format!("{pkgbase}: {line}"));
        }
        (farm, lines, failed)
    })
    .await
    .context("the build task failed")?;
    let mut farm = farm;
    // Every distribution of the index keeps its package, in scope of `--only` or not.
    let keep: BTreeSet<String> = plan
        .packages
        .iter()
        .map(|p| p.pkgname.to_string())
        .chain(plan.index_names.iter().cloned())
        .collect();
    let removed = farm.remove_all_but(&keep)?;
    for line in &lines {
        println!("{}", crate::text::for_terminal(line));
    }
    for name in &removed {
        println!("{name}: removed from the repository (its distribution left the index)");
    }
    Ok(if failed.is_empty() {
        BuildOutcome::Clean
    } else {
        BuildOutcome::SomeFailed
    })
}

/// One package: waits for a failed dependency, else is brought into the repository. `Err`
/// when it is not there as it should be.
fn build_one(
    farm: &mut Farm,
    state: &Path,
    r: &Rendered,
    failed: &BTreeSet<String>,
) -> Result<String, String> {
    let waiting: Vec<&str> = r
        .needs
        .iter()
        .filter(|n| failed.contains(*n))
        .map(String::as_str)
        .collect();
    if !waiting.is_empty() {
        return Err(format!(
            "waiting: needs {}, which failed",
            waiting.join(", ")
        ));
    }
    let (model, files) = as_sync_would_push(state, r)?;
    let input_digest = render::digest(&r.pkgbuild, &r.srcinfo);
    match farm.ensure_built(&model, &files, &input_digest) {
        Ok(Built::Already) => Ok("unchanged: already in the repository".to_string()),
        Ok(Built::Added { version }) => Ok(format!("built {version} and added it")),
        Err(failure) => Err(format!("failed: {failure}")),
    }
}

/// The model and files sync would push next, decided against the package's local clone
/// (what the AUR held when sync last looked); a new package's files as rendered.
fn as_sync_would_push(state: &Path, r: &Rendered) -> Result<(PackageModel, Files), String> {
    let pkgbase = r.model.pkgname.to_string();
    let tip = PackageRepo::open_local(&state.join("repos").join(format!("{pkgbase}.git")))
        .and_then(|repo| repo.tip_files());
    let tip = match tip.map(PublishedPackage::read).transpose() {
        Ok(tip) => tip,
        Err(e) => return Err(format!("failed: its AUR repository cannot be read: {e}")),
    };
    let render_files =
        |m: &PackageModel| -> Result<Files, String> { render::files(m).map_err(|e| e.to_string()) };
    match pkgrel::next_commit(&r.model, tip.as_ref(), &render_files) {
        Ok(TipUpdate::Unchanged { model, files } | TipUpdate::Commit { model, files, .. }) => {
            Ok((*model, files))
        }
        Err(e) => Err(format!("failed: {e}")),
    }
}
