//! The suites that run outside programs: sshd, the git and ssh clients, makepkg, pacman,
//! rakudo, bash, chromium. They panic when one is missing rather than pass without having run.

mod aur_front;
mod aur_helper;
mod aur_server;
mod build_farm;
mod build_farm_world;
mod build_repo;
mod faults;
mod install;
mod render;
mod review;
mod site;
mod srcinfo_oracle;
mod sync;
