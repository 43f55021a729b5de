//! Raku `Version` values: parsing, ordering and matching as Rakudo does, and pkgver mapping.
