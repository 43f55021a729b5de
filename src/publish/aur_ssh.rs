//! The AUR's ssh command interface (`set-keywords`, `list-repos`, ...), spoken with ssh2.
//!
//! Order matters: the server's host key is checked against the pins right after the key
//! exchange and before authenticating, so an impostor never sees even our public key. Every
//! blocking step is bounded by [`AurSsh::timeout`], so a hung server cannot hang a cron run.

use std::io::{self, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use ssh2::Session;

use super::known_hosts::{HostKeyError, PinnedHostKeys};

/// libssh2's `LIBSSH2_ERROR_TIMEOUT`, returned when a blocking call exceeds the session timeout.
const LIBSSH2_ERROR_TIMEOUT: i32 = -9;

/// Where and as whom to run AUR ssh commands.
#[derive(Clone, Debug)]
pub struct AurSsh {
    pub host: String,
    pub port: u16,
    /// `aur` on the AUR.
    pub user: String,
    /// Private key file; libssh2 derives the public half from it.
    pub key: PathBuf,
    pub pins: PinnedHostKeys,
    /// Bound on connecting and on each blocking ssh step (handshake, auth, reads).
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AurSshError {
    #[error(
        "invalid {what} {value:?}: must match ^[a-z0-9][a-z0-9.+_-]*$ (at most 255 characters)"
    )]
    InvalidName { what: &'static str, value: String },
    /// Name resolution or TCP connect failed: retry next run.
    #[error("cannot reach {address}: {source}")]
    Unreachable { address: String, source: io::Error },
    /// The server stopped answering: retry next run.
    #[error("ssh to {address} timed out during {during}")]
    TimedOut {
        address: String,
        during: &'static str,
    },
    #[error(transparent)]
    HostKey(#[from] HostKeyError),
    #[error("ssh authentication as {user} failed: {source}")]
    Auth { user: String, source: ssh2::Error },
    #[error("ssh {during} with {address} failed: {source}")]
    Ssh {
        address: String,
        during: &'static str,
        source: ssh2::Error,
    },
    #[error("reading the output of {command:?} failed: {source}")]
    Read { command: String, source: io::Error },
    #[error("{command:?} exited with status {status}: {stderr}")]
    Command {
        command: String,
        status: i32,
        stderr: String,
    },
}

/// The `set-keywords` command line, after checking every word is a plain AUR-style name:
/// the AUR runs it through a shell-like split, so anything else could change its meaning.
///
/// # Errors
/// [`AurSshError::InvalidName`] for a bad pkgbase or keyword.
pub fn set_keywords_command(pkgbase: &str, keywords: &[&str]) -> Result<String, AurSshError> {
    check_name("pkgbase", pkgbase)?;
    let mut command = format!("set-keywords {pkgbase}");
    for keyword in keywords {
        check_name("keyword", keyword)?;
        command.push(' ');
        command.push_str(keyword);
    }
    Ok(command)
}

/// The `adopt` command line for an orphaned package base.
///
/// # Errors
/// [`AurSshError::InvalidName`] for a bad pkgbase.
pub fn adopt_command(pkgbase: &str) -> Result<String, AurSshError> {
    check_name("pkgbase", pkgbase)?;
    Ok(format!("adopt {pkgbase}"))
}

/// The `flag` command line: the comment is reduced to letters, digits, blanks and `.:+-_()`
/// (it names a stranger's distribution) and single-quoted, as the AUR splits the line like a
/// shell does.
///
/// # Errors
/// [`AurSshError::InvalidName`] for a bad pkgbase.
pub fn flag_command(pkgbase: &str, comment: &str) -> Result<String, AurSshError> {
    check_name("pkgbase", pkgbase)?;
    let comment: String = comment
        .chars()
        .take(500)
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .:+-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(format!("flag {pkgbase} '{comment}'"))
}

fn check_name(what: &'static str, value: &str) -> Result<(), AurSshError> {
    let first = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let rest = |c: char| first(c) || matches!(c, '.' | '+' | '_' | '-');
    let mut chars = value.chars();
    if value.len() <= 255 && chars.next().is_some_and(first) && chars.all(rest) {
        Ok(())
    } else {
        Err(AurSshError::InvalidName {
            what,
            value: value.to_owned(),
        })
    }
}

impl AurSsh {
    /// Sets a package base's keywords (replacing the old ones); returns the server's output.
    ///
    /// # Errors
    /// As [`set_keywords_command`] and [`Self::run_command`].
    pub fn set_keywords(&self, pkgbase: &str, keywords: &[&str]) -> Result<String, AurSshError> {
        self.run_command(&set_keywords_command(pkgbase, keywords)?)
    }

    /// Runs `command` on the server and returns its standard output.
    ///
    /// # Errors
    /// [`AurSshError::HostKey`] before any authentication when the host key is not pinned;
    /// [`AurSshError::Command`] with the server's stderr when the command exits non-zero;
    /// the other variants for connection, timeout and protocol failures.
    pub fn run_command(&self, command: &str) -> Result<String, AurSshError> {
        let address = format!("{}:{}", self.host, self.port);
        let session = self.connect(&address)?;
        let ssh = |during| {
            let address = address.clone();
            move |source: ssh2::Error| ssh_error(address, during, source)
        };

        let (blob, _) = session
            .host_key()
            .ok_or_else(|| ssh2::Error::new(ssh2::ErrorCode::Session(-1), "no host key"))
            .map_err(ssh("reading the host key"))?;
        self.pins.check(&self.host, self.port, blob)?;

        session
            .userauth_pubkey_file(&self.user, None, &self.key, None)
            .map_err(
                |source| match ssh_error(address.clone(), "authentication", source) {
                    AurSshError::Ssh { source, .. } => AurSshError::Auth {
                        user: self.user.clone(),
                        source,
                    },
                    timed_out => timed_out,
                },
            )?;

        let mut channel = session
            .channel_session()
            .map_err(ssh("opening a channel"))?;
        channel.exec(command).map_err(ssh("starting the command"))?;
        let read = |source| AurSshError::Read {
            command: command.to_owned(),
            source,
        };
        let mut stdout = String::new();
        channel.read_to_string(&mut stdout).map_err(read)?;
        let mut stderr = String::new();
        channel.stderr().read_to_string(&mut stderr).map_err(read)?;
        channel.wait_close().map_err(ssh("closing the channel"))?;
        let status = channel
            .exit_status()
            .map_err(ssh("reading the exit status"))?;
        // Best effort: the answer is already complete, a failed goodbye changes nothing.
        let _ = session.disconnect(None, "done", None);
        if status != 0 {
            return Err(AurSshError::Command {
                command: command.to_owned(),
                status,
                stderr: stderr.trim_end().to_owned(),
            });
        }
        Ok(stdout)
    }

    /// TCP connect (each resolved address, bounded by the timeout) and the ssh handshake.
    fn connect(&self, address: &str) -> Result<Session, AurSshError> {
        let unreachable = |source| AurSshError::Unreachable {
            address: address.to_owned(),
            source,
        };
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the name resolved to no address");
        let mut stream = None;
        for candidate in (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(unreachable)?
        {
            match TcpStream::connect_timeout(&candidate, self.timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let stream = stream.ok_or_else(|| unreachable(last))?;

        let ssh = |during| move |source| ssh_error(address.to_owned(), during, source);
        let mut session = Session::new().map_err(ssh("setup"))?;
        // libssh2 waits on the socket itself; this bound covers every blocking call after.
        session.set_timeout(u32::try_from(self.timeout.as_millis()).unwrap_or(u32::MAX));
        session.set_tcp_stream(stream);
        session.handshake().map_err(ssh("the handshake"))?;
        Ok(session)
    }
}

fn ssh_error(address: String, during: &'static str, source: ssh2::Error) -> AurSshError {
    if source.code() == ssh2::ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) {
        AurSshError::TimedOut { address, during }
    } else {
        AurSshError::Ssh {
            address,
            during,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::Instant;

    use super::*;
    use crate::publish::known_hosts::aur_default;

    fn target(port: u16, timeout: Duration) -> AurSsh {
        AurSsh {
            host: "127.0.0.1".into(),
            port,
            user: "aur".into(),
            key: "/nonexistent/id_ed25519".into(),
            pins: aur_default(),
            timeout,
        }
    }

    #[test]
    fn adopt_and_flag_commands_carry_nothing_a_shell_split_could_misread() {
        assert_eq!(adopt_command("perl6-x").unwrap(), "adopt perl6-x");
        assert!(adopt_command("x; rm -rf /").is_err());
        assert_eq!(
            flag_command("perl6-x", "It's \"X\" 1.0; $(reboot)").unwrap(),
            "flag perl6-x 'It_s _X_ 1.0_ _(reboot)'"
        );
    }

    #[test]
    fn set_keywords_builds_the_command() {
        assert_eq!(
            set_keywords_command("raku-json-fast", &["raku", "json", "perl6-module"]).unwrap(),
            "set-keywords raku-json-fast raku json perl6-module"
        );
        // No keywords clears them.
        assert_eq!(
            set_keywords_command("raku-x", &[]).unwrap(),
            "set-keywords raku-x"
        );
    }

    #[test]
    fn set_keywords_refuses_words_that_are_not_plain_names() {
        let long = "a".repeat(256);
        for bad in [
            "",
            "Raku",
            "-x",
            ".x",
            "a b",
            "a;rm",
            "x\ny",
            "ä",
            long.as_str(),
        ] {
            let err = set_keywords_command(bad, &[]).unwrap_err();
            assert!(
                matches!(&err, AurSshError::InvalidName { what: "pkgbase", value } if value == bad),
                "{bad:?}: {err:?}"
            );
            let err = set_keywords_command("raku-x", &["ok", bad]).unwrap_err();
            assert!(
                matches!(&err, AurSshError::InvalidName { what: "keyword", value } if value == bad),
                "{bad:?}: {err:?}"
            );
        }
        assert!(set_keywords_command("0ad.data+x_y-z", &["c++"]).is_ok());
    }

    #[test]
    fn a_closed_port_is_unreachable() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = target(port, Duration::from_secs(5))
            .run_command("help")
            .unwrap_err();
        assert!(matches!(err, AurSshError::Unreachable { .. }), "{err:?}");
    }

    #[test]
    fn a_silent_server_times_out() {
        // Accepts the connection and never says a word, like a hung sshd.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let err = target(port, Duration::from_millis(300))
            .run_command("help")
            .unwrap_err();
        assert!(
            matches!(
                err,
                AurSshError::TimedOut {
                    during: "the handshake",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        drop(listener);
    }
}
