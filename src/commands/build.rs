//! `raku-aur build`: settings resolved, sync's records read, then the build run.

use std::path::Path;

use super::Ending;
use crate::build::BuildOutcome;
use crate::cli::BuildArgs;

/// `raku-aur build`.
pub async fn run(args: BuildArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    let config = crate::settings::load_config(config)?;
    let settings = crate::settings::build(args, config.as_ref())?;
    let inputs = crate::sync::build_inputs(&settings.state)?;
    Ok(match crate::build::run(&settings, inputs).await? {
        BuildOutcome::Clean => Ending::Done,
        BuildOutcome::SomeFailed => Ending::SomeFailed,
    })
}
