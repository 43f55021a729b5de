//! Publishing: the git/ssh edge towards the AUR.
//!
//! - [`known_hosts`]: pinned host keys, checked by both ssh stacks before anything is sent;
//! - [`git`]: one package's repository: sync to the server's tip, commit only changes, push
//!   fast-forward only, with typed errors;
//! - [`rules`]: the AUR's push rules, checked locally on what we are about to push;
//! - [`aur_ssh`]: the AUR's ssh commands (`set-keywords`).
//!
//! Everything here blocks; async callers run it in `spawn_blocking`.

pub mod aur_ssh;
pub mod git;
pub mod known_hosts;
pub mod rules;
