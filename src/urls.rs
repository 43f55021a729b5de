//! What counts as a web address, and where one leads: the checks the config file, the index
//! reader and the review gate share. Pure, and it uses nothing of raku-aur but the text
//! helpers, so any module can use it without a cycle.

use crate::text::{escape_for_log, refuse_unsafe};

/// Whether a location (an index, the AUR metadata, a homepage) is fetched over HTTP: it
/// starts with `http://` or `https://`; anything else is a path or not a web address.
pub(crate) fn is_http_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// An absolute URL without control or bidirectional characters, which would let it break a
/// log line or hide part of itself.
pub(crate) fn check_url(s: &str) -> Result<(), String> {
    refuse_unsafe(s)?;
    url::Url::parse(s)
        .map(|_| ())
        .map_err(|e| format!("{} is not a valid URL: {e}", escape_for_log(s)))
}

/// A URL prefix from the config file (the review gate's archive): an http(s) URL as
/// [`check_url`] wants it, without white space.
pub(crate) fn check_url_prefix(s: String) -> Result<String, String> {
    if !is_http_url(&s) {
        return Err(format!(
            "{} is not an http:// or https:// URL prefix",
            escape_for_log(&s)
        ));
    }
    check_url(&s)?;
    if s.contains(char::is_whitespace) {
        return Err(format!("{} contains white space", escape_for_log(&s)));
    }
    Ok(s)
}

/// True when `url` is inside `prefix`: same scheme, host and port, no user info, and a path
/// at or below the prefix's. Only a URL already in its canonical form counts: `..`, `%2e` and
/// the like could step out of the prefix once curl normalises them.
pub(crate) fn is_under(url: &str, prefix: &str) -> bool {
    let (Ok(u), Ok(p)) = (url::Url::parse(url), url::Url::parse(prefix)) else {
        return false;
    };
    let base = p.path().trim_end_matches('/');
    u.as_str() == url
        && u.scheme() == p.scheme()
        && u.username().is_empty()
        && u.password().is_none()
        && u.host_str() == p.host_str()
        && u.port_or_known_default() == p.port_or_known_default()
        && (u.path() == p.path() || u.path().starts_with(&format!("{base}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_only_look_like_the_archive_are_not_the_archive() {
        let prefix = "https://raw.githubusercontent.com/raku/REA/main/archive/";
        assert!(is_under(
            &format!("{prefix}J/JSON%3A%3AFast/x.tar.gz"),
            prefix
        ));
        for lookalike in [
            "https://raw.githubusercontent.com/raku/REA/main/archive/../../../mallory/x/main/y.tar.gz",
            "https://raw.githubusercontent.com/raku/REA/main/archive/%2e%2e/%2e%2e/x.tar.gz",
            "https://raw.githubusercontent.com.evil.example/raku/REA/main/archive/x.tar.gz",
            "https://raw.githubusercontent.com@evil.example/raku/REA/main/archive/x.tar.gz",
            "https://me@raw.githubusercontent.com/raku/REA/main/archive/x.tar.gz",
            "http://raw.githubusercontent.com/raku/REA/main/archive/x.tar.gz",
            "https://raw.githubusercontent.com:8443/raku/REA/main/archive/x.tar.gz",
            "https://raw.githubusercontent.com/raku/REA/main/archived/x.tar.gz",
            "not a url",
        ] {
            assert!(!is_under(lookalike, prefix), "{lookalike}");
        }
        // A prefix without a trailing slash still ends at a path segment.
        assert!(is_under(
            "https://a.example/arch/x",
            "https://a.example/arch"
        ));
        assert!(!is_under(
            "https://a.example/archive/x",
            "https://a.example/arch"
        ));
    }
}
