//! The farm: builds one package at a time in a clean root (the operator's builder), adds what
//! built to our repository, and remembers it, so that the same files are never built twice
//! and a package that failed is not retried until its files (or rakudo) change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alpm_types::PackageRelease;

use super::builder::Builder;
use super::rakudo;
use super::record::{BuildEntry, BuildRecord, InRepo, Outcome};
use super::repo::{RepoError, Repository};
use super::signing::{Signer, SigningError};
use crate::render::{self, Files, model::PackageModel};
use crate::settings::BuildSettings;

/// How many lines of a failed build's log the report keeps.
const LOG_TAIL_LINES: usize = 30;

/// What stops a run before anything is built.
#[derive(Debug, thiserror::Error)]
pub enum FarmError {
    #[error("{0}; nothing was built")]
    Signing(#[from] SigningError),
    #[error("cannot tell which rakudo builds get: {0}; nothing was built")]
    Rakudo(String),
    #[error("the repository {}: {source}", dir.display())]
    Repository { dir: PathBuf, source: RepoError },
    #[error("{0:#}")]
    Record(anyhow::Error),
}

/// A package in the repository as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Built {
    /// The repository already held these files' build.
    Already,
    /// Built and added now, at this version.
    Added { version: String },
}

/// Why a package is not in the repository as asked; the message ends with the log's tail.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct BuildFailure(pub String);

pub struct Farm {
    state: PathBuf,
    builder: Builder,
    repo: Repository,
    record: BuildRecord,
    keep: usize,
    /// The rakudo builds get now, when rebuilds follow it.
    rakudo: Option<String>,
    /// Unix time when the run started: failures are dated with it.
    now: u64,
    /// Seconds after which a failed build of unchanged files is tried again.
    retry_after: u64,
}

impl Farm {
    /// Checks the signing key and reads the rakudo version (either failing stops the run
    /// before anything is built), opens the repository and the record.
    pub fn open(settings: &BuildSettings, state: &Path, now: u64) -> Result<Farm, FarmError> {
        let signer = settings
            .sign_key
            .as_deref()
            .map(Signer::check)
            .transpose()?;
        let rakudo = settings
            .rakudo_rebuild
            .as_deref()
            .map(rakudo::probe)
            .transpose()
            .map_err(FarmError::Rakudo)?;
        let repo = Repository::open(&settings.repo_dir, &settings.repo_name, signer).map_err(
            |source| FarmError::Repository {
                dir: settings.repo_dir.clone(),
                source,
            },
        )?;
        let record = BuildRecord::load(state).map_err(FarmError::Record)?;
        let builder = Builder {
            command: settings.command.clone(),
            timeout: settings.timeout,
            repo_url: repo.url(),
            repo_name: repo.name.clone(),
        };
        Ok(Farm {
            state: state.to_path_buf(),
            builder,
            repo,
            record,
            keep: settings.keep,
            rakudo,
            now,
            retry_after: settings.retry_failed_after.as_secs(),
        })
    }

    /// Whether the repository holds the build of this input against today's rakudo.
    pub fn is_current(&self, pkgbase: &str, input_digest: &str) -> bool {
        self.in_repo(pkgbase)
            .is_some_and(|r| r.input_digest == input_digest && !self.rakudo_changed(r))
    }

    fn in_repo(&self, pkgbase: &str) -> Option<&InRepo> {
        self.record.packages.get(pkgbase)?.repo.as_ref()
    }

    fn rakudo_changed(&self, in_repo: &InRepo) -> bool {
        self.rakudo.is_some() && in_repo.rakudo != self.rakudo
    }

    /// Makes sure the repository holds `files` (of `model`, with the pkgrel and epoch they
    /// are published with) built against today's rakudo: builds and adds them unless that
    /// was done before. After a rakudo change the same files are built again with the
    /// pkgrel's minor part raised (`1` → `1.1`), so that pacman sees an upgrade.
    pub fn ensure_built(
        &mut self,
        model: &PackageModel,
        files: &Files,
        input_digest: &str,
    ) -> Result<Built, BuildFailure> {
        let pkgbase = model.pkgname.to_string();
        let files_digest = files.digest();
        let rebuild = match self.in_repo(&pkgbase) {
            Some(r) if r.files_digest == files_digest && !self.rakudo_changed(r) => {
                return Ok(Built::Already);
            }
            Some(r) if r.files_digest == files_digest => r.rebuild + 1,
            _ => 0,
        };
        if let Some(last) = self.record.packages.get(&pkgbase)
            && last.outcome == Outcome::Failed
            && last.files_digest == files_digest
            && last.rakudo == self.rakudo
            && last
                .failed_at
                .is_some_and(|t| self.now.saturating_sub(t) < self.retry_after)
        {
            return Err(BuildFailure(format!(
                "{pkgbase} {} did not build, and neither its files nor rakudo changed since; \
                 it is tried again {} hours after it failed (build.retry-failed-after); its \
                 log: {}",
                last.version,
                self.retry_after / 3600,
                self.state.join(&last.log).display()
            )));
        }
        let mut model = model.clone();
        let files = if rebuild == 0 {
            files.clone()
        } else {
            let minor = usize::try_from(rebuild).unwrap_or(usize::MAX);
            model.pkgrel = PackageRelease::new(model.pkgrel.major, Some(minor));
            render::files(&model).map_err(|e| BuildFailure(e.to_string()))?
        };
        let version = full_version(&model);
        let in_repo = self.in_repo(&pkgbase).cloned();
        let (outcome, failed_at, repo, result) = match self.build(&model, &files) {
            Ok(file) => {
                let mut kept: Vec<String> = vec![file.clone()];
                if let Some(old) = in_repo {
                    kept.extend(old.files.into_iter().filter(|f| *f != file));
                }
                let dropped = kept.split_off(self.keep.min(kept.len()));
                if let Err(e) = self.repo.delete_files(&dropped) {
                    tracing::warn!(package = %pkgbase, error = %e, "cannot prune old package files");
                }
                let in_repo = InRepo {
                    version: version.clone(),
                    files_digest: files_digest.clone(),
                    input_digest: input_digest.to_string(),
                    rakudo: self.rakudo.clone(),
                    rebuild,
                    files: kept,
                };
                let added = Ok(Built::Added {
                    version: version.clone(),
                });
                (Outcome::Built, None, Some(in_repo), added)
            }
            Err(Attempt::Failed(message)) => (
                Outcome::Failed,
                Some(self.now),
                in_repo,
                Err(BuildFailure(message)),
            ),
            // Not the package's fault: nothing is recorded, and the next run tries again.
            Err(Attempt::NotAdded(message)) => return Err(BuildFailure(message)),
        };
        self.record.packages.insert(
            pkgbase,
            BuildEntry {
                version,
                outcome,
                log: log_path(&model),
                files_digest,
                rakudo: self.rakudo.clone(),
                failed_at,
                repo,
            },
        );
        self.record
            .save(&self.state)
            .map_err(|e| BuildFailure(format!("{e:#}")))?;
        result
    }

    /// Builds into a scratch directory and adds the package; the package file's name.
    fn build(&self, model: &PackageModel, files: &Files) -> Result<String, Attempt> {
        let pkgbase = model.pkgname.to_string();
        let scratch = self.state.join("build").join(&pkgbase);
        let (dir, out) = (scratch.join("package"), scratch.join("out"));
        let log = self.state.join(log_path(model));
        let prepared = (|| -> std::io::Result<()> {
            match std::fs::remove_dir_all(&scratch) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            std::fs::create_dir_all(&dir)?;
            std::fs::create_dir_all(&out)?;
            if let Some(parent) = log.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(dir.join("PKGBUILD"), &files.pkgbuild)?;
            std::fs::write(dir.join(".SRCINFO"), &files.srcinfo)
        })();
        prepared.map_err(|e| {
            Attempt::NotAdded(format!(
                "cannot prepare the build in {}: {e}",
                scratch.display()
            ))
        })?;
        tracing::info!(package = %pkgbase, version = %full_version(model), "building");
        let built = self.builder.run(&dir, &out, &log);
        let result = match built {
            Err(e) => Err(Attempt::Failed(format!(
                "{e}; its log: {}; the end of it:\n{}",
                log.display(),
                tail(&log)
            ))),
            Ok(()) => match package_file(&out, &pkgbase, &full_version(model)) {
                Err(found) => Err(Attempt::Failed(format!(
                    "the builder succeeded but left {found} in PKGDEST instead of one package \
                     {pkgbase}-{}-<arch>.pkg.tar.*; its log: {}",
                    full_version(model),
                    log.display()
                ))),
                Ok(package) => self.repo.add(&package).map_err(|e| {
                    Attempt::NotAdded(format!(
                        "built, but not added to the repository {}: {e}; the live database \
                         is unchanged and the next run tries again",
                        self.repo.dir.display()
                    ))
                }),
            },
        };
        let _ = std::fs::remove_dir_all(&scratch);
        result
    }

    /// Takes every package not in `keep` out of the repository and the record: their
    /// distributions left the index. Returns their names.
    pub fn remove_all_but(&mut self, keep: &BTreeSet<String>) -> Result<Vec<String>, FarmError> {
        let gone: Vec<String> = self
            .record
            .packages
            .keys()
            .filter(|name| !keep.contains(*name))
            .cloned()
            .collect();
        if gone.is_empty() {
            return Ok(gone);
        }
        let repo_error = |source| FarmError::Repository {
            dir: self.repo.dir.clone(),
            source,
        };
        let in_db: Vec<String> = gone
            .iter()
            .filter(|name| self.in_repo(name).is_some())
            .cloned()
            .collect();
        self.repo.remove(&in_db).map_err(repo_error)?;
        for name in &gone {
            if let Some(entry) = self.record.packages.remove(name)
                && let Some(in_repo) = entry.repo
                && let Err(e) = self.repo.delete_files(&in_repo.files)
            {
                tracing::warn!(package = %name, error = %e, "cannot delete its package files");
            }
        }
        self.record.save(&self.state).map_err(FarmError::Record)?;
        Ok(gone)
    }
}

/// How one build went wrong.
enum Attempt {
    /// The package did not build: recorded, and not tried again for the same files.
    Failed(String),
    /// Built or not, it could not be added: the next run tries again.
    NotAdded(String),
}

/// `[epoch:]pkgver-pkgrel`, as pacman and package file names write it.
fn full_version(model: &PackageModel) -> String {
    let epoch = model.epoch.map(|e| format!("{e}:")).unwrap_or_default();
    format!("{epoch}{}-{}", model.pkgver, model.pkgrel)
}

/// `logs/<pkgbase>/<pkgver>-<pkgrel>.log`, relative to the state directory.
fn log_path(model: &PackageModel) -> String {
    format!(
        "logs/{}/{}-{}.log",
        model.pkgname, model.pkgver, model.pkgrel
    )
}

/// The one package file `pkgbase` at `version` the builder left in `out`; otherwise what it
/// did leave, for the error.
fn package_file(out: &Path, pkgbase: &str, version: &str) -> Result<PathBuf, String> {
    let prefix = format!("{pkgbase}-{version}-");
    let mut names: Vec<String> = std::fs::read_dir(out)
        .map_err(|e| format!("an unreadable directory ({e})"))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let ours: Vec<&String> = names
        .iter()
        .filter(|n| {
            n.starts_with(&prefix)
                && n.contains(".pkg.tar")
                && !n.ends_with(".sig")
                && !n[prefix.len()..].contains('-')
        })
        .collect();
    match ours.as_slice() {
        [one] => Ok(out.join(one)),
        _ if names.is_empty() => Err("nothing".into()),
        _ => Err(crate::text::escape_for_log(&names.join(", "))),
    }
}

/// The last lines of a log, without terminal control sequences.
fn tail(log: &Path) -> String {
    let text = std::fs::read(log)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("(the log cannot be read: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    crate::text::for_terminal(&lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_package_asked_for_is_taken_from_pkgdest() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            package_file(dir.path(), "raku-a", "1.0-1").unwrap_err(),
            "nothing"
        );
        for name in [
            "raku-a-1.0-1-any.pkg.tar.zst",
            "raku-a-1.0-1-any.pkg.tar.zst.sig",
            "raku-a-debug-1.0-1-x86_64.pkg.tar.zst",
            "raku-ab-1.0-1-any.pkg.tar.zst",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            package_file(dir.path(), "raku-a", "1.0-1").unwrap(),
            dir.path().join("raku-a-1.0-1-any.pkg.tar.zst")
        );
        let other = package_file(dir.path(), "raku-a", "1.0-2").unwrap_err();
        assert!(other.contains("raku-ab-1.0-1"), "{other}");
    }

    #[test]
    fn the_tail_keeps_the_last_lines_without_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, text + "\x1b[31mred\n").unwrap();
        let tail = tail(&log);
        assert_eq!(tail.lines().count(), LOG_TAIL_LINES);
        assert!(tail.starts_with("line 72\n"), "{tail}");
        assert!(tail.ends_with("\\u{1b}[31mred"), "{tail}");
    }
}
