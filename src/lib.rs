//! raku-aur: publishes every distribution of the Raku ecosystem as an AUR package.
//!
//! The flow runs one way, and only its ends touch the world:
//!
//! ```text
//! index (fetch, parse META6) -> raku (versions, dependency specs) -> plan (selection,
//! resolution through provides, names) -> tarball facts (download, checksum, cache)
//! -> render (PKGBUILD, .SRCINFO) -> write / publish -> report
//! ```
//!
//! `raku`, `plan` and `render` do no I/O and read no clock: they are tested on data alone.

pub mod aur;
mod aur_tip;
pub mod build;
mod checked_version;
pub mod cli;
mod clock;
pub mod commands;
pub mod config;
mod fetch;
mod fsutil;
pub mod index;
mod json_array;
pub mod legacy;
pub mod pipeline;
mod pkgrel;
pub mod plan;
mod progress;
mod publish;
pub mod raku;
mod read_ahead;
pub mod render;
pub mod review;
pub mod settings;
pub mod site;
mod stand_ins;
pub mod sync;
pub mod tarball;
mod text;
mod urls;
