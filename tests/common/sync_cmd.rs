//! `raku-aur sync` pointed at the local peers, in the file layout the sync test suites share:
//! `DIR/index.json`, `DIR/aur.json` (AUR metadata), `DIR/state`, `DIR/cache`.

use std::path::Path;
use std::process::Command;

use super::fixtures::REA_ARCHIVE_PREFIX;
use super::http::TestServer;
use super::sshd::{AurServer, BOT_ACCOUNT};

/// Appends `sync` and its flags, without `--only` or extras, to `command` (the binary itself,
/// or a wrapper that runs it as another user); `key` and `known_hosts` vary per test.
/// `XDG_CONFIG_HOME` names an empty directory, so no config file on this machine applies (a
/// wrapper that clears the environment must give the user a HOME without one).
pub fn add_sync_args(
    command: &mut Command,
    dir: &Path,
    http: &TestServer,
    aur: &AurServer,
    key: &Path,
    known_hosts: &Path,
) {
    let sources = Sources {
        index: dir.join("index.json").display().to_string(),
        aur_metadata: dir.join("aur.json").display().to_string(),
    };
    add_sync_args_from(command, dir, &sources, http, aur, key, known_hosts);
}

/// Where sync reads its input: paths or URLs.
pub struct Sources {
    pub index: String,
    pub aur_metadata: String,
}

/// [`add_sync_args`] with the index and the AUR metadata read from `sources`.
pub fn add_sync_args_from(
    command: &mut Command,
    dir: &Path,
    sources: &Sources,
    http: &TestServer,
    aur: &AurServer,
    key: &Path,
    known_hosts: &Path,
) {
    command
        .env("XDG_CONFIG_HOME", dir.join("no-config"))
        .arg("sync")
        .arg("--index")
        .arg(&sources.index)
        .arg("--state")
        .arg(dir.join("state"))
        .arg("--cache")
        .arg(dir.join("cache"))
        .arg("--mirror")
        .arg(format!("{REA_ARCHIVE_PREFIX}={}", http.base_url()))
        .arg("--remote")
        .arg(aur.remote_template())
        .arg("--ssh-key")
        .arg(key)
        .arg("--known-hosts")
        .arg(known_hosts)
        .arg("--aur-metadata")
        .arg(&sources.aur_metadata)
        .args(["--aur-user", BOT_ACCOUNT])
        .args(["--maintainer", "raku-aur bot <bot@example.org>"]);
}
