//! `raku-aur legacy`: the AUR packages that stand in for distributions of the index, and what
//! the operator can do about each.

use std::fmt::Write as _;
use std::path::Path;

use super::Ending;
use crate::cli::LegacyArgs;
use crate::legacy::{LegacyEntry, NextStep};
use crate::pipeline::{self, AurContext};

/// `raku-aur legacy`.
pub async fn run(args: LegacyArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    let config = crate::settings::load_config(config)?;
    let settings = crate::settings::legacy(args, config.as_ref())?;
    let meta = pipeline::load_aur_metadata(&settings.aur_metadata, &settings.source).await?;
    let client = pipeline::http_client(settings.source.http_timeout)?;
    let (releases, _) = pipeline::read_indexes(&settings.source, &client).await?;
    let aur = AurContext {
        meta,
        account: settings.aur_user.clone().unwrap_or_default(),
        stand_ins: settings.stand_ins.clone(),
        published_scripts: Default::default(),
        stand_ins_seen: Default::default(),
    };
    let plan = pipeline::plan_against(&settings.source, Some(&aur), releases)?;
    let entries = pipeline::legacy_report(&plan, &aur, settings.aur_user.as_deref());
    if settings.json {
        let mut json = serde_json::to_string_pretty(&entries).expect("the report serialises");
        json.push('\n');
        print!("{json}");
    } else {
        print!("{}", text(&entries));
    }
    Ok(Ending::Done)
}

/// The report for a person: one block per package, the ones that hold back most first.
fn text(entries: &[LegacyEntry]) -> String {
    let mut out = String::new();
    let behind = entries.iter().filter(|e| e.behind).count();
    let _ = writeln!(
        out,
        "{} AUR packages stand in for distributions of the index; {behind} are behind it.",
        entries.len()
    );
    for e in entries {
        let maintainer = e.maintainer.as_deref().unwrap_or("orphan");
        let flagged = e.out_of_date_since.map_or_else(
            || "not flagged".to_string(),
            |t| format!("flagged out of date since {t}"),
        );
        let _ = writeln!(
            out,
            "\n{} {} (index: {} {}) — {maintainer}, {flagged}, {} votes, popularity {:.2}; \
             {} of our packages depend on it, {} are held back by it",
            e.package, e.version, e.dist, e.newest, e.votes, e.popularity, e.dependents, e.held
        );
        let step = match e.next_step {
            NextStep::Nothing => "nothing: it is current",
            NextStep::Adopt => "adopt it (an orphan)",
            NextStep::FlagOutOfDate => "flag it out of date",
            NextStep::AskMaintainer => "ask the maintainer (flagged, not yet for 180 days)",
            NextStep::FileOrphanRequest => "file an orphan request (flagged for 180 days or more)",
        };
        let _ = writeln!(out, "  next: {step}");
        if let Some(request) = &e.request {
            let _ = writeln!(out, "  {request}");
        }
    }
    crate::text::for_terminal(&out)
}
