//! The install instructions: an AUR helper always; with a binary repository, the `pacman.conf`
//! lines and the commands that trust its signing key.

use serde::Serialize;

/// A binary repository of our packages (issue 14 builds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    /// The repository's name: the `[name]` section of `pacman.conf`.
    pub name: String,
    /// Where it is served, e.g. `https://example.org/repo/$arch`.
    pub server_url: String,
    /// The signing key's fingerprint (40 hex digits); `None`: the packages are not signed.
    pub fingerprint: Option<String>,
}

impl From<&crate::settings::PublicRepo> for RepoInfo {
    fn from(repo: &crate::settings::PublicRepo) -> RepoInfo {
        RepoInfo {
            name: repo.name.clone(),
            server_url: repo.url.clone(),
            fingerprint: repo.sign_key.clone(),
        }
    }
}

/// The instructions, as lines of shell or config to copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Install {
    /// One command per AUR helper, `{pkg}` standing for the package (the pages fill it in).
    pub helpers: Vec<String>,
    /// `pacman.conf` lines, when a repository exists.
    pub pacman_conf: Option<String>,
    /// Commands that import and locally sign the repository's key, when it is signed.
    pub trust_key: Option<String>,
}

/// The instructions for `package` (the index page passes a placeholder).
pub fn install(package: &str, repo: Option<&RepoInfo>) -> Install {
    let helpers = ["yay", "paru"]
        .iter()
        .map(|helper| format!("{helper} -S {package}"))
        .collect();
    let Some(repo) = repo else {
        return Install {
            helpers,
            pacman_conf: None,
            trust_key: None,
        };
    };
    let sig_level = if repo.fingerprint.is_some() {
        "Required DatabaseOptional"
    } else {
        // Unsigned packages can only be installed with signatures switched off for them.
        "Never"
    };
    let pacman_conf = format!(
        "[{}]\nSigLevel = {sig_level}\nServer = {}",
        repo.name, repo.server_url
    );
    let trust_key = repo
        .fingerprint
        .as_ref()
        .map(|fp| format!("sudo pacman-key --recv-keys {fp}\nsudo pacman-key --lsign-key {fp}"));
    Install {
        helpers,
        pacman_conf: Some(pacman_conf),
        trust_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aur_helper_always_and_pacman_lines_with_the_key_for_a_repository() {
        let none = install("raku-json-fast", None);
        assert_eq!(
            none.helpers,
            ["yay -S raku-json-fast", "paru -S raku-json-fast"]
        );
        assert_eq!((none.pacman_conf, none.trust_key), (None, None));

        let fp = "0123456789ABCDEF0123456789ABCDEF01234567";
        let repo = RepoInfo {
            name: "raku".into(),
            server_url: "https://example.org/repo/$arch".into(),
            fingerprint: Some(fp.into()),
        };
        let signed = install("raku-json-fast", Some(&repo));
        assert_eq!(
            signed.pacman_conf.as_deref(),
            Some(
                "[raku]\nSigLevel = Required DatabaseOptional\nServer = https://example.org/repo/$arch"
            )
        );
        assert_eq!(
            signed.trust_key.as_deref(),
            Some(&*format!(
                "sudo pacman-key --recv-keys {fp}\nsudo pacman-key --lsign-key {fp}"
            ))
        );
        let unsigned = install(
            "raku-json-fast",
            Some(&RepoInfo {
                fingerprint: None,
                ..repo
            }),
        );
        assert!(unsigned.pacman_conf.unwrap().contains("SigLevel = Never"));
        assert_eq!(unsigned.trust_key, None);
    }
}
