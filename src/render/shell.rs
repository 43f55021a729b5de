//! Proven-safe bash quoting for values that reach a PKGBUILD.
