//! `raku-aur review`, `approve` and `reject`: the maintainer's side of the review queue.

use std::path::Path;

use super::Ending;
use crate::cli::{ReviewArgs, VerdictArgs};
use crate::review::queue::{self, Choice};

/// `raku-aur review`: every waiting change with its reasons and diff.
pub fn show(args: ReviewArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    let state = state_dir(args.state, config)?;
    queue::show(&state)?;
    Ok(Ending::Done)
}

/// `raku-aur approve`.
pub fn approve(args: VerdictArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    record(args, config, Choice::Approve)
}

/// `raku-aur reject`.
pub fn reject(args: VerdictArgs, config: Option<&Path>) -> anyhow::Result<Ending> {
    record(args, config, Choice::Reject)
}

fn record(args: VerdictArgs, config: Option<&Path>, choice: Choice) -> anyhow::Result<Ending> {
    let state = state_dir(args.state, config)?;
    queue::record_verdict(&state, &args.packages, choice)?;
    Ok(Ending::Done)
}

fn state_dir(
    flag: Option<std::path::PathBuf>,
    config: Option<&Path>,
) -> anyhow::Result<std::path::PathBuf> {
    // The config file is read only when the flag leaves the state directory open.
    let config = match flag {
        Some(_) => None,
        None => crate::config::load(config)?,
    };
    Ok(crate::settings::state_dir(flag, config.as_ref())?)
}
