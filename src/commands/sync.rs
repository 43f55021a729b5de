//! `raku-aur sync`: settings resolved, then the publishing run, then the status site when
//! `[site] dir` is set.

use std::path::Path;

use super::Ending;
use crate::cli::SyncArgs;
use crate::site::install::RepoInfo;
use crate::sync::RunOutcome;

/// `raku-aur sync`.
pub async fn run(args: SyncArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    let config = crate::settings::load_config(config)?;
    let settings = crate::settings::sync(args, config.as_ref()).settings()?;
    let synced = crate::sync::run(&settings).await?;
    let mut ending = match synced.outcome {
        RunOutcome::Clean => Ending::Done,
        RunOutcome::SomeFailed => Ending::SomeFailed,
    };
    if let Some(dir) = &settings.options.site_dir {
        let repo = settings.options.site_repo.as_ref().map(RepoInfo::from);
        let made = crate::site::generate(
            &settings.state,
            dir,
            &synced.rendered,
            &synced.plan,
            &synced.stand_ins,
            repo.as_ref(),
        );
        if let Err(e) = made {
            // What was published stays published; the next run writes the site again.
            tracing::error!(site = %dir.display(), error = %format!("{e:#}"), "cannot write the status site");
            ending = Ending::SomeFailed;
        }
    }
    Ok(ending)
}
