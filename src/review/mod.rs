//! The review gate: which kinds of change wait for a maintainer instead of being pushed
//! ([`policy`]), why a proposed change does ([`verdicts`]), and the queue where it waits for
//! a maintainer's verdict ([`queue`]).

mod policy;
pub(crate) mod queue;
mod verdicts;

pub use policy::{REA_ARCHIVE_PREFIX, ReviewKind, ReviewPolicy};
pub(crate) use verdicts::reasons;
pub use verdicts::{Proposed, Reason};
