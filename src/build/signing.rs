//! The operator's GnuPG key: checked before anything is built, then used for a detached
//! signature per package (repo-add signs the database itself with the same key).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A key that signed a test file when the run started.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The full fingerprint.
    pub key: String,
}

/// The key cannot sign: missing, expired, revoked, or gpg itself failed.
#[derive(Debug, thiserror::Error)]
#[error("the signing key {key} (build.sign-key) cannot sign: {reason}")]
pub struct SigningError {
    pub key: String,
    pub reason: String,
}

impl Signer {
    /// Signs a scratch file with `key`: gpg refuses a missing, expired or revoked key the
    /// same way it would at the first package, but before any build has run.
    pub fn check(key: &str) -> Result<Signer, SigningError> {
        let error = |reason: String| SigningError {
            key: key.to_string(),
            reason,
        };
        let dir = tempfile::tempdir().map_err(|e| error(format!("no scratch directory: {e}")))?;
        let probe = dir.path().join("probe");
        std::fs::write(&probe, b"raku-aur signing check\n")
            .map_err(|e| error(format!("cannot write a scratch file: {e}")))?;
        let signer = Signer {
            key: key.to_string(),
        };
        signer.sign(&probe)?;
        Ok(signer)
    }

    /// Writes `file.sig`, a binary detached signature, and returns its path.
    pub fn sign(&self, file: &Path) -> Result<PathBuf, SigningError> {
        let mut sig = file.as_os_str().to_owned();
        sig.push(".sig");
        let sig = PathBuf::from(sig);
        let output = Command::new("gpg")
            .args(["--batch", "--yes", "--no-tty", "--no-armor", "--local-user"])
            .arg(&self.key)
            .arg("--output")
            .arg(&sig)
            .arg("--detach-sign")
            .arg(file)
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(o) if o.status.success() => Ok(sig),
            Ok(o) => Err(SigningError {
                key: self.key.clone(),
                reason: gpg_said(&o),
            }),
            Err(e) => Err(SigningError {
                key: self.key.clone(),
                reason: format!("cannot start gpg: {e}"),
            }),
        }
    }

    /// Whether `sig` is this key's valid signature of `file`.
    pub fn verifies(&self, file: &Path, sig: &Path) -> bool {
        let output = Command::new("gpg")
            .args(["--batch", "--no-tty", "--status-fd", "1", "--verify"])
            .arg(sig)
            .arg(file)
            .stdin(Stdio::null())
            .output();
        // VALIDSIG names the signing key's fingerprint (or its primary's, last).
        output.is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter_map(|l| l.strip_prefix("[GNUPG:] VALIDSIG "))
                    .any(|l| l.split(' ').any(|f| f.eq_ignore_ascii_case(&self.key)))
        })
    }
}

/// gpg's complaint, on one line.
fn gpg_said(output: &Output) -> String {
    let said = crate::text::one_line(&String::from_utf8_lossy(&output.stderr));
    if said.is_empty() {
        format!("gpg failed ({})", output.status)
    } else {
        said
    }
}
