//! git's smart HTTP protocol, read-only, by handing a request to `git http-backend` as a CGI
//! script, as the AUR's web server does for `https://aur.archlinux.org/<pkgbase>.git`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A request for a repository, as the front received it.
pub struct GitRequest<'a> {
    pub method: &'a str,
    /// Decoded, e.g. `/raku-foo.git/info/refs`.
    pub path: &'a str,
    /// Raw, as it came after `?`.
    pub query: &'a str,
    /// `(name, value)`; the names a CGI script sees are taken from here.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What http-backend answered: status, headers (without `Status:`), body.
pub struct GitResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Whether `path` is one of the two requests of a fetch or clone over smart HTTP, for a
/// repository directly under the served directory. Pushes are not served: the AUR takes them
/// over ssh only.
pub fn is_fetch(path: &str, query: &str) -> bool {
    let repository = |rest: &str| {
        rest.strip_prefix('/')
            .and_then(|r| r.strip_suffix(".git"))
            .is_some_and(|name| !name.is_empty() && !name.starts_with('.') && !name.contains('/'))
    };
    match (
        path.strip_suffix("/info/refs"),
        path.strip_suffix("/git-upload-pack"),
    ) {
        (Some(rest), _) => repository(rest) && query == "service=git-upload-pack",
        (_, Some(rest)) => repository(rest),
        _ => false,
    }
}

/// Runs `git http-backend` for `request` over the bare repositories in `root`.
/// The repositories may belong to another account (the test AUR's, as root), hence
/// `safe.directory`; no user or system git configuration applies.
pub fn serve(root: &Path, request: &GitRequest) -> Result<GitResponse, String> {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut command = Command::new("git");
    command
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", request.method)
        .env("PATH_INFO", request.path)
        .env("QUERY_STRING", request.query)
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(kind) = header("Content-Type") {
        command.env("CONTENT_TYPE", kind);
    }
    // http-backend inflates a gzipped request body itself.
    if let Some(encoding) = header("Content-Encoding") {
        command.env("HTTP_CONTENT_ENCODING", encoding);
    }
    // Protocol version 2, when the client asks for it.
    if let Some(protocol) = header("Git-Protocol") {
        command.env("GIT_PROTOCOL", protocol);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run git http-backend: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from another thread: http-backend may start answering before it read it all.
    let body = request.body.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("git http-backend: {e}"))?;
    writer
        .join()
        .map_err(|_| "the request body writer panicked".to_string())?
        .map_err(|e| format!("git http-backend did not read the request: {e}"))?;
    // It answers refusals (404, 403) with a status line of its own, whatever its exit code.
    parse_cgi(&output.stdout).map_err(|e| {
        format!(
            "{e} (exit {}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Splits a CGI script's output into status, headers and body.
fn parse_cgi(output: &[u8]) -> Result<GitResponse, String> {
    let (head, body) = [&b"\r\n\r\n"[..], b"\n\n"]
        .iter()
        .filter_map(|end| {
            output
                .windows(end.len())
                .position(|w| w == *end)
                .map(|at| (&output[..at], &output[at + end.len()..]))
        })
        .min_by_key(|(head, _)| head.len())
        .ok_or("git http-backend printed no header")?;
    let head = String::from_utf8_lossy(head);
    let mut status = 200;
    let mut headers = Vec::new();
    for line in head.lines() {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("git http-backend printed a bad header: {line:?}"))?;
        let value = value.trim().to_string();
        if name.eq_ignore_ascii_case("Status") {
            status = value
                .split_whitespace()
                .next()
                .and_then(|code| code.parse().ok())
                .ok_or_else(|| format!("git http-backend printed a bad status: {value:?}"))?;
        } else {
            headers.push((name.to_string(), value));
        }
    }
    Ok(GitResponse {
        status,
        headers,
        body: body.to_vec(),
    })
}
