pub mod makepkg;
