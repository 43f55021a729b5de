//! Pinned SSH host keys: which keys a server may present before we send it anything.
//!
//! Two line forms are accepted, mixed freely in one text:
//!
//! - OpenSSH known_hosts lines: `host[,host...] type base64 [comment]`, where a host is
//!   `name` (port 22) or `[name]:port`;
//! - fingerprint lines, the form the AUR publishes: `host[,host...] SHA256:<base64>`.
//!
//! Both are reduced to the SHA-256 digest of the key blob, so matching a raw key and matching
//! its fingerprint are the same comparison. Hashed host names (`|1|...`), wildcards, negations
//! and `@cert-authority`/`@revoked` markers are refused: a pin must name its host in clear so an
//! operator can read what is trusted.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest, Sha256};

/// The AUR's published host keys, shipped with the bot.
const AUR_KNOWN_HOSTS: &str = include_str!("../../keys/aur.archlinux.org.known_hosts");

/// A set of pinned host keys, parsed from known_hosts or fingerprint lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedHostKeys {
    pins: Vec<Pin>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pin {
    /// `name` for port 22, `[name]:port` otherwise; lowercase, as OpenSSH compares them.
    host: String,
    sha256: [u8; 32],
}

/// A line of pinned host keys that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("host keys, line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    pub kind: ParseErrorKind,
}

/// What was wrong with a line of pinned host keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    #[error("hashed host names (|1|...) are not supported; write the host name in clear")]
    HashedHost,
    #[error("marker {0} is not supported; only plain host keys can be pinned")]
    Marker(String),
    #[error("host entry {0:?} is not a plain name or [name]:port")]
    BadHost(String),
    #[error("expected a key type and key, or a SHA256: fingerprint, after the host list")]
    MissingKey,
    #[error("key is not valid base64")]
    KeyBase64,
    #[error("line says {declared} but the key blob is {actual}")]
    TypeMismatch { declared: String, actual: String },
    #[error("fingerprint {0:?} is not SHA256: followed by 43 base64 characters")]
    BadFingerprint(String),
}

/// A host key that no pin accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostKeyError {
    #[error("no host key is pinned for {host}; it offered {key_type} key {fingerprint}")]
    UnknownHost {
        host: String,
        key_type: String,
        fingerprint: String,
    },
    #[error(
        "host key of {host} does not match its pins: it offered {key_type} key {fingerprint} \
         (a changed server key or a man in the middle)"
    )]
    Mismatch {
        host: String,
        key_type: String,
        fingerprint: String,
    },
}

/// The pins for `aur.archlinux.org` shipped in `keys/aur.archlinux.org.known_hosts`.
pub fn aur_default() -> PinnedHostKeys {
    // The shipped file is compiled in and parsed by a unit test, so this cannot fail at run time.
    AUR_KNOWN_HOSTS
        .parse()
        .expect("keys/aur.archlinux.org.known_hosts parses (checked by tests)")
}

/// The OpenSSH fingerprint of a key blob: `SHA256:` and the unpadded base64 of its digest.
pub fn fingerprint(key_blob: &[u8]) -> String {
    format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(Sha256::digest(key_blob))
    )
}

/// The key type name a blob carries in its first SSH string (RFC 4253 §6.6), e.g. `ssh-ed25519`.
pub fn key_type_of(key_blob: &[u8]) -> Option<&str> {
    let len = u32::from_be_bytes(key_blob.get(..4)?.try_into().ok()?) as usize;
    std::str::from_utf8(key_blob.get(4..4 + len)?).ok()
}

/// The name a host is pinned under: OpenSSH writes non-default ports as `[name]:port`.
fn pin_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

impl PinnedHostKeys {
    /// Accepts `key_blob` (the raw key in SSH wire format, as libssh2 hands it out) from
    /// `host:port` iff a pin for exactly that host and port has the same SHA-256 digest.
    ///
    /// The key type is read from the blob itself, so it cannot disagree with the key.
    ///
    /// # Errors
    /// [`HostKeyError::UnknownHost`] when nothing is pinned for the host and port,
    /// [`HostKeyError::Mismatch`] when pins exist but none matches. Both show the offered
    /// fingerprint so an operator can compare it with the published one.
    pub fn check(&self, host: &str, port: u16, key_blob: &[u8]) -> Result<(), HostKeyError> {
        let name = pin_name(host, port);
        let digest: [u8; 32] = Sha256::digest(key_blob).into();
        let mut known = false;
        for pin in self.pins.iter().filter(|p| p.host == name) {
            if pin.sha256 == digest {
                return Ok(());
            }
            known = true;
        }
        let key_type = key_type_of(key_blob).unwrap_or("unknown").to_owned();
        let fingerprint = fingerprint(key_blob);
        Err(if known {
            HostKeyError::Mismatch {
                host: name,
                key_type,
                fingerprint,
            }
        } else {
            HostKeyError::UnknownHost {
                host: name,
                key_type,
                fingerprint,
            }
        })
    }
}

impl FromStr for PinnedHostKeys {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let mut pins = Vec::new();
        for (index, line) in text.lines().enumerate() {
            parse_line(line, &mut pins).map_err(|kind| ParseError {
                line: index + 1,
                kind,
            })?;
        }
        Ok(PinnedHostKeys { pins })
    }
}

impl fmt::Display for PinnedHostKeys {
    /// One fingerprint line per pin: the canonical, human-checkable form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pin in &self.pins {
            writeln!(
                f,
                "{} SHA256:{}",
                pin.host,
                STANDARD_NO_PAD.encode(pin.sha256)
            )?;
        }
        Ok(())
    }
}

fn parse_line(line: &str, pins: &mut Vec<Pin>) -> Result<(), ParseErrorKind> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(());
    }
    let mut fields = line.split_whitespace();
    let hosts = fields.next().unwrap_or_default();
    if hosts.starts_with('@') {
        return Err(ParseErrorKind::Marker(hosts.to_owned()));
    }
    if hosts.starts_with('|') {
        return Err(ParseErrorKind::HashedHost);
    }
    let hosts = hosts
        .split(',')
        .map(parse_host)
        .collect::<Result<Vec<_>, _>>()?;
    let first = fields.next().ok_or(ParseErrorKind::MissingKey)?;
    let sha256 = match first.strip_prefix("SHA256:") {
        Some(b64) => {
            parse_fingerprint(b64).ok_or_else(|| ParseErrorKind::BadFingerprint(first.into()))?
        }
        None => {
            let blob = STANDARD
                .decode(fields.next().ok_or(ParseErrorKind::MissingKey)?)
                .map_err(|_| ParseErrorKind::KeyBase64)?;
            let actual = key_type_of(&blob).unwrap_or("no key type");
            if actual != first {
                return Err(ParseErrorKind::TypeMismatch {
                    declared: first.to_owned(),
                    actual: actual.to_owned(),
                });
            }
            Sha256::digest(&blob).into()
        }
    };
    pins.extend(hosts.into_iter().map(|host| Pin { host, sha256 }));
    Ok(())
}

/// `name` or `[name]:port` → the canonical pin name.
fn parse_host(entry: &str) -> Result<String, ParseErrorKind> {
    let bad = || ParseErrorKind::BadHost(entry.to_owned());
    let (name, port) = match entry.strip_prefix('[') {
        Some(rest) => {
            let (name, port) = rest.split_once("]:").ok_or_else(bad)?;
            (name, port.parse::<u16>().map_err(|_| bad())?)
        }
        // A bare `name:port` is not how OpenSSH writes ports; refuse it rather than never match.
        None if entry.contains(':') => return Err(bad()),
        None => (entry, 22),
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if name.is_empty() || !name.chars().all(plain) {
        return Err(bad());
    }
    Ok(pin_name(name, port))
}

fn parse_fingerprint(b64: &str) -> Option<[u8; 32]> {
    // ssh-keygen prints fingerprints unpadded; tolerate the padding a copy from elsewhere may add.
    STANDARD_NO_PAD
        .decode(b64.trim_end_matches('='))
        .ok()?
        .try_into()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUR_ED25519: &str =
        "AAAAC3NzaC1lZDI1NTE5AAAAIEuBKrPzbawxA/k2g6NcyV5jmqwJ2s+zpgZGZ7tpLIcN";

    fn aur_blob() -> Vec<u8> {
        STANDARD.decode(AUR_ED25519).unwrap()
    }

    /// A syntactically valid ed25519 blob that is not the AUR's key.
    fn other_blob() -> Vec<u8> {
        let mut blob = aur_blob();
        *blob.last_mut().unwrap() ^= 1;
        blob
    }

    #[test]
    fn shipped_ed25519_key_hashes_to_the_published_fingerprint() {
        assert_eq!(
            fingerprint(&aur_blob()),
            "SHA256:RFzBCUItH9LZS0cKB5UE6ceAYhBD5C8GeOBip8Z11+4"
        );
        assert_eq!(key_type_of(&aur_blob()), Some("ssh-ed25519"));
    }

    #[test]
    fn aur_default_accepts_the_aur_key_and_lists_all_published_fingerprints() {
        let pins = aur_default();
        assert_eq!(pins.check("aur.archlinux.org", 22, &aur_blob()), Ok(()));
        assert_eq!(pins.check("AUR.archlinux.org", 22, &aur_blob()), Ok(()));
        let shown = pins.to_string();
        for published in [
            "RFzBCUItH9LZS0cKB5UE6ceAYhBD5C8GeOBip8Z11+4",
            "uTa/0PndEgPZTf76e1DFqXKJEXKsn7m9ivhLQtzGOCI",
            "5s5cIyReIfNNVGRFdDbe3hdYiI5OelHGpw2rOUud3Q8",
        ] {
            assert!(shown.contains(&format!("aur.archlinux.org SHA256:{published}\n")));
        }
    }

    #[test]
    fn a_fingerprint_line_alone_accepts_the_key() {
        let pins: PinnedHostKeys =
            "aur.archlinux.org SHA256:RFzBCUItH9LZS0cKB5UE6ceAYhBD5C8GeOBip8Z11+4"
                .parse()
                .unwrap();
        assert_eq!(pins.check("aur.archlinux.org", 22, &aur_blob()), Ok(()));
    }

    #[test]
    fn mismatch_shows_the_offered_fingerprint() {
        let err = aur_default()
            .check("aur.archlinux.org", 22, &other_blob())
            .unwrap_err();
        let HostKeyError::Mismatch {
            ref host,
            ref key_type,
            ref fingerprint,
        } = err
        else {
            panic!("expected a mismatch, got {err:?}");
        };
        assert_eq!(host, "aur.archlinux.org");
        assert_eq!(key_type, "ssh-ed25519");
        assert_eq!(*fingerprint, super::fingerprint(&other_blob()));
        assert!(err.to_string().contains(fingerprint.as_str()));
    }

    #[test]
    fn a_pin_applies_only_to_its_port() {
        let pins = aur_default();
        let err = pins
            .check("aur.archlinux.org", 2222, &aur_blob())
            .unwrap_err();
        assert!(
            matches!(&err, HostKeyError::UnknownHost { host, .. } if host == "[aur.archlinux.org]:2222"),
            "{err:?}"
        );

        let text = format!("[localhost]:2222,[127.0.0.1]:2222 ssh-ed25519 {AUR_ED25519} test");
        let pins: PinnedHostKeys = text.parse().unwrap();
        assert_eq!(pins.check("127.0.0.1", 2222, &aur_blob()), Ok(()));
        assert_eq!(pins.check("localhost", 2222, &aur_blob()), Ok(()));
        assert!(matches!(
            pins.check("localhost", 22, &aur_blob()),
            Err(HostKeyError::UnknownHost { .. })
        ));
    }

    #[test]
    fn bracketed_port_22_is_the_bare_host() {
        let pins: PinnedHostKeys = format!("[example.org]:22 ssh-ed25519 {AUR_ED25519}")
            .parse()
            .unwrap();
        assert_eq!(pins.check("example.org", 22, &aur_blob()), Ok(()));
    }

    #[test]
    fn unknown_host_is_distinct_from_mismatch() {
        let err = aur_default()
            .check("example.org", 22, &aur_blob())
            .unwrap_err();
        assert!(matches!(err, HostKeyError::UnknownHost { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("SHA256:RFzBCUItH9LZS0cKB5UE6ceAYhBD5C8GeOBip8Z11+4")
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let pins: PinnedHostKeys = "\n# comment\n   \n".parse().unwrap();
        assert_eq!(pins.to_string(), "");
    }

    #[test]
    fn malformed_lines_name_their_line_number() {
        let cases: &[(&str, ParseErrorKind)] = &[
            (
                "|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 AAAA",
                ParseErrorKind::HashedHost,
            ),
            (
                "@cert-authority *.example.org ssh-ed25519 AAAA",
                ParseErrorKind::Marker("@cert-authority".into()),
            ),
            (
                "*.archlinux.org SHA256:RFzBCUItH9LZS0cKB5UE6ceAYhBD5C8GeOBip8Z11+4",
                ParseErrorKind::BadHost("*.archlinux.org".into()),
            ),
            (
                "[example.org]:notaport SHA256:RFzBCUItH9LZS0cKB5UE6ceAYhBD5C8GeOBip8Z11+4",
                ParseErrorKind::BadHost("[example.org]:notaport".into()),
            ),
            ("example.org", ParseErrorKind::MissingKey),
            ("example.org ssh-ed25519", ParseErrorKind::MissingKey),
            ("example.org ssh-ed25519 !!!", ParseErrorKind::KeyBase64),
            (
                "example.org SHA256:tooshort",
                ParseErrorKind::BadFingerprint("SHA256:tooshort".into()),
            ),
        ];
        for (line, kind) in cases {
            let text = format!("# header\n\naur.archlinux.org ssh-ed25519 {AUR_ED25519}\n{line}\n");
            let err = text.parse::<PinnedHostKeys>().unwrap_err();
            assert_eq!(
                err,
                ParseError {
                    line: 4,
                    kind: kind.clone()
                },
                "{line}"
            );
            assert!(err.to_string().starts_with("host keys, line 4: "), "{err}");
        }
    }

    #[test]
    fn a_key_line_whose_type_disagrees_with_its_blob_is_refused() {
        let err = format!("example.org ssh-rsa {AUR_ED25519}")
            .parse::<PinnedHostKeys>()
            .unwrap_err();
        assert_eq!(
            err.kind,
            ParseErrorKind::TypeMismatch {
                declared: "ssh-rsa".into(),
                actual: "ssh-ed25519".into()
            }
        );
    }
}
