//! Runs the operator's builder on one package directory: the only place a build process is
//! started, watched and stopped.
//!
//! The builder gets the bot's environment plus `PKGDEST`, `RAKU_AUR_REPO` and
//! `RAKU_AUR_REPO_NAME`; its output goes to the package's log file. It runs in a process
//! group of its own, so that a build that outlives its timeout is stopped with everything it
//! started, and nothing it left running survives it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

/// How often a running build is checked on.
const POLL: Duration = Duration::from_millis(100);

/// The builder command and what every build is told.
#[derive(Debug, Clone)]
pub struct Builder {
    pub command: Vec<String>,
    pub timeout: Duration,
    /// The repository as a `file://` URL, and its name.
    pub repo_url: String,
    pub repo_name: String,
}

/// Why a build did not produce packages.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot start the builder {program}: {source}")]
    Start { program: String, source: io::Error },
    #[error("the builder failed ({0})")]
    Failed(ExitStatus),
    #[error("the build was stopped after {} seconds (build.timeout)", .0.as_secs())]
    TimedOut(Duration),
    #[error("cannot write the build log {}: {source}", path.display())]
    Log { path: PathBuf, source: io::Error },
    #[error("cannot watch the builder: {0}")]
    Wait(io::Error),
}

impl Builder {
    /// Builds the package whose PKGBUILD and .SRCINFO are in `dir`; the packages land in
    /// `pkgdest`, the output in `log`.
    pub fn run(&self, dir: &Path, pkgdest: &Path, log: &Path) -> Result<(), BuildError> {
        let log_error = |source| BuildError::Log {
            path: log.to_path_buf(),
            source,
        };
        let out = File::create(log).map_err(log_error)?;
        let err = out.try_clone().map_err(log_error)?;
        let (program, args) = self
            .command
            .split_first()
            .expect("settings refuse an empty build.command");
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("PKGDEST", pkgdest)
            .env("RAKU_AUR_REPO", &self.repo_url)
            .env("RAKU_AUR_REPO_NAME", &self.repo_name)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|source| BuildError::Start {
                program: program.clone(),
                source,
            })?;
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if started.elapsed() >= self.timeout => {
                    stop_group(child.id());
                    let _ = child.wait();
                    break Err(BuildError::TimedOut(self.timeout));
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => {
                    stop_group(child.id());
                    let _ = child.wait();
                    break Err(BuildError::Wait(e));
                }
            }
        };
        // What the build left running in the background must not outlive it.
        stop_group(child.id());
        let status = status?;
        if status.success() {
            Ok(())
        } else {
            Err(BuildError::Failed(status))
        }
    }
}

/// Kills the process group `leader` started; there may be nothing left to kill.
fn stop_group(leader: u32) {
    let pid = i32::try_from(leader)
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(script: &str, timeout: Duration) -> Builder {
        Builder {
            command: vec!["sh".into(), "-c".into(), script.into()],
            timeout,
            repo_url: "file:///srv/repo".into(),
            repo_name: "raku-aur".into(),
        }
    }

    #[test]
    fn the_builder_gets_the_package_directory_and_the_three_variables() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let log = dir.path().join("log");
        let b = builder(
            "echo \"$PWD|$PKGDEST|$RAKU_AUR_REPO|$RAKU_AUR_REPO_NAME\"",
            Duration::from_secs(30),
        );
        b.run(dir.path(), &out, &log).unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        let pwd = dir.path().canonicalize().unwrap();
        assert_eq!(
            text.trim(),
            format!(
                "{}|{}|file:///srv/repo|raku-aur",
                pwd.display(),
                out.display()
            )
        );
    }

    #[test]
    fn a_failing_builder_is_a_failure_with_its_output_in_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let b = builder("echo broken >&2; exit 3", Duration::from_secs(30));
        let error = b.run(dir.path(), dir.path(), &log).unwrap_err();
        assert!(matches!(error, BuildError::Failed(s) if s.code() == Some(3)));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "broken\n");
    }

    #[test]
    fn a_hanging_build_is_stopped_with_everything_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let marker = dir.path().join("survived");
        // The background child would write the marker after the build was stopped.
        let script = format!(
            "(sleep 2; touch {}) & echo started; sleep 600",
            marker.display()
        );
        let b = builder(&script, Duration::from_millis(500));
        let started = Instant::now();
        let error = b.run(dir.path(), dir.path(), &log).unwrap_err();
        assert!(matches!(error, BuildError::TimedOut(_)), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_secs(3));
        assert!(!marker.exists(), "a process of the build outlived it");
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "started\n");
    }
}
