//! The build farm: every package built in a clean root before it is published, and kept in
//! our own signed pacman repository (issue 14; README, "Build farm").
//!
//! [`Farm`] is what `sync` and `build` share: the builder ([`builder`]), the repository
//! ([`repo`], signed with [`signing`]), the record of what was built ([`record`]) and the
//! rakudo version builds follow ([`rakudo`]). [`run`] is the `build` command's loop.

mod builder;
mod farm;
mod rakudo;
mod record;
mod repo;
mod run;
mod signing;

pub use farm::{BuildFailure, Built, Farm, FarmError};
pub use run::{BuildInputs, BuildOutcome, run};
