//! Our pacman repository: a directory of package files, their signatures and the database
//! `repo-add` keeps, served as static files.
//!
//! The database is never changed in place: it is copied into `.staging/`, changed there by
//! `repo-add`/`repo-remove` (signed with the operator's key when there is one), and renamed
//! over the live one. A failure on the way (a full disk, a killed run) leaves the old database
//! in place and serving; the package files a new database names are in the directory before
//! it is.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::signing::{Signer, SigningError};

const STAGING: &str = ".staging";

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{tool} failed ({status}): {said}")]
    Tool {
        tool: &'static str,
        status: String,
        said: String,
    },
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// The repository directory, its name, and the key that signs it.
#[derive(Debug)]
pub struct Repository {
    pub dir: PathBuf,
    pub name: String,
    pub signer: Option<Signer>,
}

impl Repository {
    /// Opens (creating) the directory and clears what a killed run left in staging; makes
    /// sure the database's signature is the key's (a run killed between renaming the two
    /// leaves a mismatch).
    pub fn open(dir: &Path, name: &str, signer: Option<Signer>) -> Result<Repository, RepoError> {
        let repo = Repository {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            signer,
        };
        std::fs::create_dir_all(dir).map_err(io_error("cannot create", dir))?;
        repo.clear_staging()?;
        repo.create_if_missing()?;
        repo.repair_signatures()?;
        Ok(repo)
    }

    /// An empty database (an empty tarball, signed), so that a builder can synchronise the
    /// repository before its first package.
    fn create_if_missing(&self) -> Result<(), RepoError> {
        if self.dir.join(self.archive("db")).exists() {
            return Ok(());
        }
        let staging = self.stage()?;
        for kind in ["db", "files"] {
            let path = staging.join(self.archive(kind));
            empty_archive(&path).map_err(io_error("cannot write", &path))?;
            if let Some(signer) = &self.signer {
                signer.sign(&path)?;
            }
        }
        self.swap_in(&staging)
    }

    /// The `file://` URL builders install our packages from.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }

    /// Adds `package` (a built package file, anywhere): signs it, stages the new database,
    /// copies the package (and signature) into the directory, then swaps the database in.
    /// Returns the package's file name.
    pub fn add(&self, package: &Path) -> Result<String, RepoError> {
        let file_name = package
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| RepoError::Io {
                what: "not a package file:",
                path: package.to_path_buf(),
                source: io::Error::from(io::ErrorKind::InvalidInput),
            })?;
        let signature = match &self.signer {
            Some(signer) => Some(signer.sign(package)?),
            None => None,
        };
        let staging = self.stage()?;
        let mut command = Command::new("repo-add");
        command.args(["--quiet", "--nocolor"]);
        self.sign_args(&mut command);
        command.arg(staging.join(self.archive("db"))).arg(package);
        run_tool("repo-add", &mut command)?;
        self.copy_in(package, &file_name)?;
        if let Some(sig) = signature {
            self.copy_in(&sig, &format!("{file_name}.sig"))?;
        }
        self.swap_in(&staging)?;
        Ok(file_name)
    }

    /// Takes `pkgnames` out of the database; names it does not hold are passed over
    /// (repo-remove would refuse the whole list for one of them).
    pub fn remove(&self, pkgnames: &[String]) -> Result<(), RepoError> {
        let db = self.dir.join(self.archive("db"));
        if pkgnames.is_empty() || !db.exists() {
            return Ok(());
        }
        let held = names_in(&db).map_err(io_error("cannot read", &db))?;
        let pkgnames: Vec<&String> = pkgnames.iter().filter(|n| held.contains(*n)).collect();
        if pkgnames.is_empty() {
            return Ok(());
        }
        let staging = self.stage()?;
        let mut command = Command::new("repo-remove");
        command.args(["--quiet", "--nocolor"]);
        self.sign_args(&mut command);
        command.arg(staging.join(self.archive("db"))).args(pkgnames);
        run_tool("repo-remove", &mut command)?;
        self.swap_in(&staging)
    }

    /// Deletes package files (and their signatures) the database no longer names.
    pub fn delete_files(&self, names: &[String]) -> Result<(), RepoError> {
        for name in names {
            for file in [name.clone(), format!("{name}.sig")] {
                let path = self.dir.join(&file);
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(io_error("cannot delete", &path)(e));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// `<name>.db.tar.gz` or `<name>.files.tar.gz`.
    fn archive(&self, kind: &str) -> String {
        format!("{}.{kind}.tar.gz", self.name)
    }

    fn sign_args(&self, command: &mut Command) {
        if let Some(signer) = &self.signer {
            command.args(["--sign", "--key", &signer.key]);
        }
    }

    fn clear_staging(&self) -> Result<PathBuf, RepoError> {
        let staging = self.dir.join(STAGING);
        match std::fs::remove_dir_all(&staging) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io_error("cannot clear", &staging)(e));
            }
            _ => {}
        }
        Ok(staging)
    }

    /// A fresh staging directory holding copies of the live database archives.
    fn stage(&self) -> Result<PathBuf, RepoError> {
        let staging = self.clear_staging()?;
        std::fs::create_dir(&staging).map_err(io_error("cannot create", &staging))?;
        for kind in ["db", "files"] {
            let live = self.dir.join(self.archive(kind));
            if live.exists() {
                let copy = staging.join(self.archive(kind));
                std::fs::copy(&live, &copy).map_err(io_error("cannot copy", &live))?;
            }
        }
        Ok(staging)
    }

    /// Copies `from` into the directory as `name`, through a temporary name.
    fn copy_in(&self, from: &Path, name: &str) -> Result<(), RepoError> {
        let part = self.dir.join(format!(".{name}.part"));
        std::fs::copy(from, &part).map_err(io_error("cannot copy into", &part))?;
        let target = self.dir.join(name);
        std::fs::rename(&part, &target).map_err(io_error("cannot rename", &target))
    }

    /// Renames the staged archives over the live ones, signatures first and the `db` last:
    /// pacman reads the `db`, so it changes in one step. Then the links pacman asks for.
    fn swap_in(&self, staging: &Path) -> Result<(), RepoError> {
        for kind in ["files", "db"] {
            let archive = self.archive(kind);
            for name in [format!("{archive}.sig"), archive.clone()] {
                let staged = staging.join(&name);
                if staged.exists() {
                    let live = self.dir.join(&name);
                    std::fs::rename(&staged, &live).map_err(io_error("cannot replace", &live))?;
                }
            }
            let link = format!("{}.{kind}", self.name);
            self.link(&link, &archive)?;
            if self.signer.is_some() {
                self.link(&format!("{link}.sig"), &format!("{archive}.sig"))?;
            }
        }
        self.clear_staging().map(drop)
    }

    /// Makes `name` a relative link to `target`, unless it already is one.
    fn link(&self, name: &str, target: &str) -> Result<(), RepoError> {
        let path = self.dir.join(name);
        if std::fs::read_link(&path).is_ok_and(|t| t == Path::new(target)) {
            return Ok(());
        }
        let part = self.dir.join(format!(".{name}.part"));
        let _ = std::fs::remove_file(&part);
        std::os::unix::fs::symlink(target, &part).map_err(io_error("cannot link", &part))?;
        std::fs::rename(&part, &path).map_err(io_error("cannot replace", &path))
    }

    /// Signs the live database archives again where their signature is not the key's.
    fn repair_signatures(&self) -> Result<(), RepoError> {
        let Some(signer) = &self.signer else {
            return Ok(());
        };
        for kind in ["db", "files"] {
            let archive = self.dir.join(self.archive(kind));
            let mut sig = archive.as_os_str().to_owned();
            sig.push(".sig");
            if archive.exists() && !signer.verifies(&archive, Path::new(&sig)) {
                tracing::warn!(archive = %archive.display(), "the database's signature does not match it; signing it again");
                signer.sign(&archive)?;
            }
        }
        Ok(())
    }
}

/// The package names a database holds: its entries are `<name>-<pkgver>-<pkgrel>/` (pkgver
/// and pkgrel have no `-`).
fn names_in(db: &Path) -> io::Result<std::collections::BTreeSet<String>> {
    let gzip = flate2::read::GzDecoder::new(std::fs::File::open(db)?);
    let mut names = std::collections::BTreeSet::new();
    for entry in tar::Archive::new(gzip).entries()? {
        let path = entry?.path()?.into_owned();
        if let Some(top) = path.components().next() {
            let top = top.as_os_str().to_string_lossy();
            let mut parts = top.rsplitn(3, '-');
            if let (Some(_), Some(_), Some(name)) = (parts.next(), parts.next(), parts.next()) {
                names.insert(name.to_string());
            }
        }
    }
    Ok(names)
}

/// A gzipped tar archive with nothing in it: what pacman reads as an empty database.
fn empty_archive(path: &Path) -> io::Result<()> {
    let file = std::fs::File::create(path)?;
    let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    tar::Builder::new(gzip).into_inner()?.finish()?.sync_all()
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> RepoError {
    let path = path.to_path_buf();
    move |source| RepoError::Io { what, path, source }
}

/// Runs repo-add or repo-remove; their complaint becomes the error.
fn run_tool(tool: &'static str, command: &mut Command) -> Result<(), RepoError> {
    let output = command
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| RepoError::Tool {
            tool,
            status: "not started".into(),
            said: e.to_string(),
        })?;
    if output.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    Err(RepoError::Tool {
        tool,
        status: output.status.to_string(),
        said: crate::text::one_line(&text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package file repo-add accepts: a tarball with a `.PKGINFO`.
    fn fake_package(dir: &Path, name: &str, version: &str) -> PathBuf {
        let work = dir.join(format!("{name}-work"));
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(
            work.join(".PKGINFO"),
            format!(
                "pkgname = {name}\npkgbase = {name}\npkgver = {version}\narch = any\nsize = 0\n"
            ),
        )
        .unwrap();
        let file = dir.join(format!("{name}-{version}-any.pkg.tar.gz"));
        let status = Command::new("bsdtar")
            .arg("-czf")
            .arg(&file)
            .arg("-C")
            .arg(&work)
            .arg(".PKGINFO")
            .status()
            .unwrap();
        assert!(status.success());
        file
    }

    fn db_names(repo: &Repository) -> Vec<String> {
        let out = Command::new("bsdtar")
            .arg("-tf")
            .arg(repo.dir.join("raku-aur.db"))
            .output()
            .unwrap();
        let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix('/'))
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn packages_come_and_go_through_the_staged_database() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::open(&dir.path().join("repo"), "raku-aur", None).unwrap();
        assert!(
            db_names(&repo).is_empty(),
            "a new repository has an empty database"
        );
        let a = fake_package(dir.path(), "raku-a", "1.0-1");
        let b = fake_package(dir.path(), "raku-b", "2.0-1");
        assert_eq!(repo.add(&a).unwrap(), "raku-a-1.0-1-any.pkg.tar.gz");
        repo.add(&b).unwrap();
        assert_eq!(db_names(&repo), ["raku-a-1.0-1", "raku-b-2.0-1"]);
        assert!(repo.dir.join("raku-a-1.0-1-any.pkg.tar.gz").is_file());
        assert!(!repo.dir.join(STAGING).exists());
        // A name the database does not hold is passed over, not a failure.
        repo.remove(&["raku-a".to_string(), "raku-gone".to_string()])
            .unwrap();
        assert_eq!(db_names(&repo), ["raku-b-2.0-1"]);
        repo.remove(&["raku-gone".to_string()]).unwrap();
        assert_eq!(db_names(&repo), ["raku-b-2.0-1"]);
    }

    #[test]
    fn a_failed_update_leaves_the_live_database_alone() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::open(&dir.path().join("repo"), "raku-aur", None).unwrap();
        repo.add(&fake_package(dir.path(), "raku-a", "1.0-1"))
            .unwrap();
        let before = std::fs::read(repo.dir.join("raku-aur.db.tar.gz")).unwrap();
        let not_a_package = dir.path().join("raku-b-1.0-1-any.pkg.tar.gz");
        std::fs::write(&not_a_package, b"garbage").unwrap();
        let error = repo.add(&not_a_package).unwrap_err();
        assert!(
            matches!(
                error,
                RepoError::Tool {
                    tool: "repo-add",
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(
            std::fs::read(repo.dir.join("raku-aur.db.tar.gz")).unwrap(),
            before
        );
        assert!(!repo.dir.join("raku-b-1.0-1-any.pkg.tar.gz").exists());
    }
}
