//! The keyword `raku` on each package we create, set over the AUR's ssh interface once its
//! first commit is on the server.
//!
//! A run can die between that first push and `set-keywords`; the next run then finds the
//! package already on the server and could not tell that it still lacks its keyword. So just
//! before a first push, a mark `STATE/keywords-pending/<pkgbase>` is made; it is removed only
//! once the keyword is set, and every run sets the keyword of each published package that
//! still has a mark. A failure is a warning (the package itself is published) and is retried
//! by the next run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::publish::aur_ssh::AurSsh;
use crate::publish::git::RemoteAuth;
use crate::settings::SyncSettings;

const KEYWORDS: &[&str] = &["raku"];

/// How long one `set-keywords` may take to connect, and then for each ssh step.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The mark for `pkgbase`, or `None` when its remote has no ssh command interface (a
/// `file://` remote, or no key), where there is nothing to set.
pub fn mark_path(settings: &SyncSettings, auth: &RemoteAuth, pkgbase: &str) -> Option<PathBuf> {
    aur_ssh(settings, auth, pkgbase).map(|_| mark_file(&settings.state, pkgbase))
}

fn mark_file(state: &Path, pkgbase: &str) -> PathBuf {
    state.join("keywords-pending").join(pkgbase)
}

/// Records that `pkgbase`'s keyword is still to be set; call it before its first push. The
/// mark is an empty file, so it cannot be half-written.
pub fn mark(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::File::create(path).map(drop)
}

/// Sets the keyword of `pkgbase` if it is marked as pending, and removes the mark.
pub async fn set_if_pending(settings: &SyncSettings, auth: &RemoteAuth, pkgbase: &str) {
    // Most packages have no mark: look for it before building any ssh settings.
    let path = mark_file(&settings.state, pkgbase);
    if !path.exists() {
        return;
    }
    let Some(ssh) = aur_ssh(settings, auth, pkgbase) else {
        return;
    };
    let name = pkgbase.to_string();
    let result = tokio::task::spawn_blocking(move || ssh.set_keywords(&name, KEYWORDS)).await;
    match result {
        Ok(Ok(_)) => {
            tracing::info!(package = %pkgbase, "set keywords: {}", KEYWORDS.join(" "));
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(mark = %path.display(), error = %e, "cannot remove the keywords mark; the keywords will be set again next run");
            }
        }
        Ok(Err(e)) => {
            tracing::warn!(package = %pkgbase, error = %e, "set-keywords failed; the package is published without keywords until the next run")
        }
        Err(e) => tracing::warn!(package = %pkgbase, error = %e, "set-keywords task failed"),
    }
}

/// The AUR's ssh command interface behind `--remote`, when it is an ssh URL and a key is set.
pub(super) fn aur_ssh(settings: &SyncSettings, auth: &RemoteAuth, pkgbase: &str) -> Option<AurSsh> {
    let key = auth.ssh_key.clone()?;
    let url = url::Url::parse(&settings.options.remote.replace("{pkgbase}", pkgbase)).ok()?;
    if url.scheme() != "ssh" {
        return None;
    }
    Some(AurSsh {
        host: url.host_str().unwrap_or_default().to_string(),
        port: url.port().unwrap_or(22),
        user: url.username().to_string(),
        key,
        pins: auth.pins.clone(),
        timeout: TIMEOUT,
    })
}
