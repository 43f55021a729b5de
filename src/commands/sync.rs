//! `raku-aur sync`: settings resolved, then the publishing run.

use std::path::Path;

use super::Ending;
use crate::cli::SyncArgs;
use crate::sync::RunOutcome;

/// `raku-aur sync`.
pub async fn run(args: SyncArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    let config = crate::settings::load_config(config)?;
    let settings = crate::settings::sync(args, config.as_ref()).settings()?;
    Ok(match crate::sync::run(&settings).await? {
        RunOutcome::Clean => Ending::Done,
        RunOutcome::SomeFailed => Ending::SomeFailed,
    })
}
