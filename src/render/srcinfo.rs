//! `.SRCINFO` writer: byte-identical to `makepkg --printsrcinfo`.
