//! Rendering: one [`model::PackageModel`] becomes a PKGBUILD (tera template) and a `.SRCINFO`.

pub mod model;
pub mod shell;
pub mod srcinfo;
