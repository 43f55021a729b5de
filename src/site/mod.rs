//! The status site: every distribution of the index, where it stands and why, as static
//! pages made from the state the bot already has (see README, "The status site").
//!
//! `model` assembles the rows and pages from the plan, the rendered packages and the state's
//! records, with no I/O and no clock; `state` reads those records; `write` renders the
//! templates of `templates/site/` and writes the files; `install` says how to install.
//! Same state, same bytes: the site carries no time of its own making.

pub mod install;
pub mod model;
pub mod state;
pub mod write;

use std::path::Path;

use std::collections::BTreeMap;

use crate::legacy::AurFacts;
use crate::pipeline::Rendered;
use crate::plan::Plan;
use install::RepoInfo;

/// Makes the site of `rendered` and `plan` with the records of `state`, into `out`.
///
/// # Errors
/// When the state's records cannot be read or a file cannot be written.
pub fn generate(
    state: &Path,
    out: &Path,
    rendered: &[Rendered],
    plan: &Plan,
    stand_ins: &BTreeMap<String, AurFacts>,
    repo: Option<&RepoInfo>,
) -> anyhow::Result<()> {
    let records = state::read(state)?;
    let site = model::assemble(&model::Inputs {
        plan,
        rendered,
        published: &records.published,
        queue: &records.queue,
        builds: &records.builds,
        last_run: &records.last_run,
        stand_ins,
    });
    let files = write::files(&site, repo, |pkgbase, version| {
        state::build_log(state, pkgbase, version)
    })?;
    write::write(out, &files)?;
    tracing::info!(
        site = %out.display(),
        distributions = site.rows.len(),
        pages = site.pages.len(),
        "wrote the status site"
    );
    Ok(())
}
