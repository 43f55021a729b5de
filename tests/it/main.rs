//! The integration tests, one binary for all suites so that the crate is linked into a test
//! executable once. Suites under [`with_tools`] run outside programs (sshd, git, makepkg,
//! pacman, rakudo, bash); the others need only the binary and loopback, plus `sh` and
//! util-linux's `script` for `terminal`, so `cargo test --test it -- --skip with_tools` runs
//! where those programs are missing.

#[path = "../common/mod.rs"]
mod common;

mod config;
mod infra;
mod legacy;
mod render;
mod site;
mod terminal;
mod with_tools;
