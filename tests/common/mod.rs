//! Helpers shared by the integration tests.
//!
//! Each test crate compiles this module on its own and uses only part of it, so unused items
//! are expected there and not a sign of dead code.
#![allow(dead_code)]

pub mod fixtures;
pub mod git;
pub mod http;
pub mod makepkg;
pub mod sshd;
pub mod sync_cmd;
pub mod world;
