//! The Raku side of the world: versions and dependency specifications, as Rakudo and zef
//! understand them.

pub mod depspec;
pub mod version;
