//! `raku-aur render`: indexes in, one directory per package plus `report.json` out.

use std::path::Path;

use super::Ending;
use crate::cli::RenderArgs;
use crate::pipeline::{self, render_all};

/// `raku-aur render`.
pub async fn run(args: RenderArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    let config = crate::settings::load_config(config)?;
    let settings = crate::settings::render(args, config.as_ref())?;
    let (rendered, plan, skipped) = render_all(&settings.source, None).await?;
    pipeline::write_out(&settings.out, &rendered, plan.held, skipped)?;
    tracing::info!(
        rendered = rendered.len(),
        out = %settings.out.display(),
        "done; see report.json for held-back packages"
    );
    Ok(Ending::Done)
}
