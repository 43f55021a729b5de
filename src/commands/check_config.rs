//! `raku-aur check-config`: the settings `sync` would run with, where each came from, and
//! every problem with them, without touching the network or the state directory.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::Ending;
use crate::cli::SyncArgs;
use crate::config;
use crate::publish::known_hosts::PinnedHostKeys;

/// Prints the settings and the problems; done when there are none, else fatal.
pub fn run(args: SyncArgs, explicit: Option<&Path>) -> Ending {
    let (text, usable) = report(args, explicit);
    print!("{text}");
    if usable { Ending::Done } else { Ending::Fatal }
}

/// The report `run` prints, and whether the settings are usable.
fn report(args: SyncArgs, explicit: Option<&Path>) -> (String, bool) {
    let mut out = String::new();
    let config = match config::load(explicit) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(out, "problem: {e}\nnot usable: 1 problem");
            return (out, false);
        }
    };
    match (&config, config::default_path()) {
        (Some(c), _) => {
            let _ = writeln!(out, "# config file {}", c.path.display());
        }
        (None, Some(p)) => {
            let _ = writeln!(out, "# no config file ({} does not exist)", p.display());
        }
        (None, None) => {
            let _ = writeln!(
                out,
                "# no config file (neither XDG_CONFIG_HOME nor HOME is set)"
            );
        }
    }
    let resolved = crate::settings::sync(args, config.as_ref());
    let (draft, mut problems) = (&resolved.draft, resolved.problems.clone());
    let options = &draft.options;
    problems.extend(check_ssh_key(options.ssh_key.as_deref(), &options.remote));
    if let Some(path) = &options.known_hosts {
        problems.extend(check_known_hosts(path));
    }
    for index in &options.source.indexes {
        problems.extend(check_local_file("indexes", index));
    }
    problems.extend(check_local_file("aur-metadata", &options.aur_metadata));
    if let Some(build) = &options.build {
        let search = std::env::var_os("PATH").unwrap_or_default();
        let commands = [Some(("build.command", &build.command))]
            .into_iter()
            .chain([build
                .rakudo_rebuild
                .as_ref()
                .map(|c| ("build.rakudo-version-command", c))]);
        for (key, argv) in commands.flatten() {
            if let Some(program) = argv.first() {
                problems.extend(check_program(key, program, &search));
            }
        }
    }
    for (key, dir) in [
        ("state-dir", draft.state.as_deref()),
        ("cache-dir", Some(options.source.cache.as_path())),
    ] {
        if let Some(dir) = dir
            && dir.exists()
            && !dir.is_dir()
        {
            problems.push(format!("{key} {} is not a directory", dir.display()));
        }
    }
    for s in &resolved.listing {
        let _ = writeln!(out, "{} = {}  # {}", s.key, s.value, s.origin);
    }
    for p in &problems {
        let _ = writeln!(out, "problem: {p}");
    }
    if problems.is_empty() {
        let _ = writeln!(out, "usable");
    } else {
        let _ = writeln!(
            out,
            "not usable: {} problem{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
    }
    (out, problems.is_empty())
}

/// The private key: present when the remote is reached over ssh, a regular file we can read,
/// not open to group or others (as ssh itself insists), and a private key, not a public one.
fn check_ssh_key(key: Option<&Path>, remote: &str) -> Vec<String> {
    let Some(path) = key else {
        return if remote.starts_with("ssh://") {
            vec![
                "ssh-key is not set, and the remote is reached over ssh: pass --ssh-key FILE or set ssh-key".to_string(),
            ]
        } else {
            Vec::new()
        };
    };
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return vec![format!("ssh-key {shown} cannot be used: {e}")],
    };
    if !meta.is_file() {
        return vec![format!("ssh-key {shown} is not a regular file")];
    }
    let mut problems = Vec::new();
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        problems.push(format!(
            "ssh-key {shown} has mode {mode:04o}; a private key must not be open to group or others (chmod 600 {shown})"
        ));
    }
    let mut head = [0u8; 11];
    match File::open(path).and_then(|mut f| f.read(&mut head)) {
        Err(e) => problems.push(format!("ssh-key {shown} is not readable by this user: {e}")),
        Ok(n) if !head[..n].starts_with(b"-----BEGIN ") => problems.push(format!(
            "ssh-key {shown} is not a private key (it does not start with -----BEGIN; a .pub file?)"
        )),
        Ok(_) => {}
    }
    problems
}

fn check_known_hosts(path: &Path) -> Vec<String> {
    let shown = path.display();
    match std::fs::read_to_string(path) {
        Err(e) => vec![format!("known-hosts {shown} cannot be read: {e}")],
        Ok(text) => match text.parse::<PinnedHostKeys>() {
            Ok(_) => Vec::new(),
            Err(e) => vec![format!("known-hosts {shown} is invalid: {e}")],
        },
    }
}

/// A location that is not a URL must be a readable file.
fn check_local_file(key: &str, location: &str) -> Vec<String> {
    if crate::urls::is_http_url(location) {
        return Vec::new();
    }
    match File::open(location).and_then(|f| f.metadata()) {
        Ok(m) if m.is_file() => Vec::new(),
        Ok(_) => vec![format!("{key}: {location} is not a regular file")],
        Err(e) => vec![format!("{key}: {location} cannot be read: {e}")],
    }
}

/// A program must be an executable file, found on `search` (a PATH) unless it has a `/`.
fn check_program(key: &str, program: &str, search: &std::ffi::OsStr) -> Vec<String> {
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let found = if program.contains('/') {
        executable(Path::new(program))
    } else {
        std::env::split_paths(search).any(|dir| executable(&dir.join(program)))
    };
    if found {
        Vec::new()
    } else {
        vec![format!(
            "{key}: {program} is not an executable program here{}",
            if program.contains('/') {
                ""
            } else {
                " (not on PATH)"
            }
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_must_be_an_executable_program() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("builder");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let path = dir.path().as_os_str();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(check_program("k", "builder", path).len(), 1);
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_program("k", "builder", path).is_empty());
        assert!(check_program("k", tool.to_str().unwrap(), "".as_ref()).is_empty());
        let missing = check_program("build.command", "makechrootpkg", path);
        assert_eq!(
            missing,
            ["build.command: makechrootpkg is not an executable program here (not on PATH)"]
        );
    }

    fn key_file(dir: &Path, text: &str, mode: u32) -> std::path::PathBuf {
        let path = dir.join("key");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    const PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\n";

    #[test]
    fn a_private_key_with_mode_0600_or_stricter_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o600, 0o400] {
            let key = key_file(dir.path(), PRIVATE, mode);
            assert_eq!(
                check_ssh_key(Some(&key), "ssh://aur@x/{pkgbase}.git"),
                Vec::<String>::new()
            );
        }
    }

    #[test]
    fn group_or_other_bits_are_a_problem_naming_file_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            let key = key_file(dir.path(), PRIVATE, mode);
            let problems = check_ssh_key(Some(&key), "");
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].contains(&format!("{} has mode {mode:04o}", key.display())),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn missing_directories_and_public_keys_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(check_ssh_key(Some(&missing), "")[0].contains("cannot be used"));
        assert!(check_ssh_key(Some(dir.path()), "")[0].contains("not a regular file"));
        let public = key_file(dir.path(), "ssh-ed25519 AAAA... me@host\n", 0o600);
        assert!(check_ssh_key(Some(&public), "")[0].contains("not a private key"));
        // Without a key, only an ssh remote is a problem.
        assert_eq!(check_ssh_key(None, "ssh://aur@x/{pkgbase}.git").len(), 1);
        assert!(check_ssh_key(None, "/srv/git/{pkgbase}.git").is_empty());
    }

    #[test]
    fn a_maintainer_at_an_invalid_domain_is_a_placeholder() {
        use crate::config::is_placeholder;
        assert!(is_placeholder(crate::settings::DEFAULT_MAINTAINER));
        assert!(is_placeholder("YOUR NAME <you@example.invalid>"));
        assert!(!is_placeholder("Jane Doe <jane@example.org>"));
        assert!(!is_placeholder("Jane Doe <invalid@example.org>"));
    }

    #[test]
    fn known_hosts_must_parse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, "|1|hashed ssh-ed25519 AAAA\n").unwrap();
        let problems = check_known_hosts(&path);
        assert!(
            problems[0].contains("is invalid: host keys, line 1"),
            "{problems:?}"
        );
        std::fs::write(
            &path,
            "aur.archlinux.org SHA256:RFzBCUItH9LZS0cKB5UE6ceAYhBD5C8GeOBip8Z11+4\n",
        )
        .unwrap();
        assert_eq!(check_known_hosts(&path), Vec::<String>::new());
    }
}
