//! `raku-aur site`: the status site, made from the index, the AUR's metadata and the state
//! directory, as sync would see them now; nothing is published.

use std::path::Path;

use super::Ending;
use crate::cli::SiteArgs;
use crate::pipeline::{self, AurContext};
use crate::site::install::RepoInfo;

/// `raku-aur site`.
pub async fn run(args: SiteArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    let config = crate::settings::load_config(config)?;
    let settings = crate::settings::site(args, config.as_ref())?;
    let meta = pipeline::load_aur_metadata(&settings.aur_metadata, &settings.source).await?;
    let published = crate::sync::read_published(&settings.state)?;
    let aur = AurContext {
        meta,
        account: settings.aur_user.clone().unwrap_or_default(),
        stand_ins: settings.stand_ins.clone(),
        published_scripts: published
            .iter()
            .filter(|(_, p)| !p.scripts.is_empty())
            .map(|(name, p)| (name.clone(), p.scripts.clone()))
            .collect(),
        // Stand-ins that left the AUR are sync's to replace; the site shows the plan as is.
        stand_ins_seen: Default::default(),
    };
    let (rendered, plan, _) = pipeline::render_all(&settings.source, Some(&aur)).await?;
    let stand_ins = crate::legacy::stand_in_facts(&plan, |name| aur.meta.facts(name));
    let repo = settings.repo.as_ref().map(RepoInfo::from);
    crate::site::generate(
        &settings.state,
        &settings.out,
        &rendered,
        &plan,
        &stand_ins,
        repo.as_ref(),
    )?;
    Ok(Ending::Done)
}
