//! Web addresses in settings: which locations are fetched over HTTP, and which prefixes are
//! acceptable. Shared by the config file, the index reader and the review policy.

use crate::text::{escape_for_log, refuse_unsafe};

/// Whether a location (an index, the AUR metadata, a homepage) is fetched over HTTP: it
/// starts with `http://` or `https://`; anything else is a path or not a web address.
pub fn is_http_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// An absolute URL that parses, on one line.
pub fn check_url(s: &str) -> Result<(), String> {
    refuse_unsafe(s)?;
    url::Url::parse(s)
        .map(|_| ())
        .map_err(|e| format!("{} is not a valid URL: {e}", escape_for_log(s)))
}

/// An http(s) URL prefix without white space: a mirror's side or an archive location.
pub fn check_url_prefix(s: String) -> Result<String, String> {
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
