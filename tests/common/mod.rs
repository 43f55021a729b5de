//! Helpers shared by the integration tests.

pub mod arch;
pub mod aur_front;
pub mod aur_rpc;
pub mod browser;
pub mod build_farm;
pub mod fixtures;
pub mod git;
pub mod git_http;
pub mod http;
pub mod makepkg;
pub mod sshd;
pub mod status_site;
pub mod sync_cmd;
pub mod world;
