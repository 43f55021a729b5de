//! The AUR's web front for the test AUR ([`super::sshd`]): what an AUR helper talks to.
//!
//! On 127.0.0.1 it serves the RPC ([`super::aur_rpc`]), with every record read afresh from the
//! bare repositories at each request (the `.SRCINFO` on `master`, the commit times, the owner
//! and the last `set-keywords`), so that what the bot pushes shows at once; and git over
//! smart HTTP at `/<pkgbase>.git` ([`super::git_http`]). Every response closes the connection.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::aur_rpc::{self, Published};
use super::git_http::{self, GitRequest};
use super::http::percent_decode;
use super::sshd::{AurServer, BOT_ACCOUNT};

/// Bounds a stalled client.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// A request line and headers; anything bigger is not from a helper.
const MAX_HEAD: u64 = 64 * 1024;
/// git's requests for a clone of one of our repositories are far smaller.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the test AUR keeps, as the front reads it.
struct Served {
    repos: PathBuf,
    owners: PathBuf,
    keywords: PathBuf,
}

struct Shared {
    served: Served,
    stopping: AtomicBool,
    log: Mutex<Vec<String>>,
}

/// A running front; it stops when dropped.
pub struct AurFront {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl AurFront {
    /// Serves what `aur` holds, on a port the OS picks.
    pub fn start(aur: &AurServer) -> AurFront {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the front's address");
        let shared = Arc::new(Shared {
            served: Served {
                repos: aur.repos_dir(),
                owners: aur.owners_file(),
                keywords: aur.keywords_file(),
            },
            stopping: AtomicBool::new(false),
            log: Mutex::new(Vec::new()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("aur-front-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &shared))
                .expect("spawn the front's thread")
        };
        AurFront {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash, as helpers want their AUR URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, oldest first: `METHOD target status`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.log).clone()
    }
}

impl Drop for AurFront {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // accept() returns only when someone connects.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        // Not joined: the I/O timeouts bound a connection's life.
        let _ = thread::Builder::new()
            .name("aur-front-conn".into())
            .spawn(move || {
                let _ = handle(stream, &shared);
            });
    }
}

/// A request as read off the socket.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response to send: status, extra headers, body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn text(status: u16, text: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("{text}\n").into_bytes(),
        }
    }

    fn json(body: &serde_json::Value) -> Response {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }
}

fn handle(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let response = match read_request(&mut reader, &mut out)? {
        Ok(request) => {
            let response = route(&request, &shared.served);
            lock(&shared.log).push(format!(
                "{} {} {}",
                request.method, request.target, response.status
            ));
            response
        }
        Err(problem) => Response::text(400, problem),
    };
    write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    )?;
    for (name, value) in &response.headers {
        write!(out, "{name}: {value}\r\n")?;
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    )?;
    out.write_all(&response.body)?;
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Other",
    }
}

/// Reads one request; the inner error is a client's mistake, to answer with 400.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    out: &mut TcpStream,
) -> io::Result<Result<Request, &'static str>> {
    let mut head = reader.by_ref().take(MAX_HEAD);
    let mut line = String::new();
    head.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(Err("no request line"));
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if head.read_line(&mut line)? == 0 {
            return Ok(Err("the headers do not end"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Ok(Err("a header without a colon"));
        };
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if request
        .header("Expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let chunked = request
        .header("Transfer-Encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    request.body = if chunked {
        match read_chunked(reader)? {
            Some(body) => body,
            None => return Ok(Err("a bad chunked body")),
        }
    } else {
        let length = match request.header("Content-Length").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(length)) if length <= MAX_BODY => length,
            Some(_) => return Ok(Err("a bad Content-Length")),
        };
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };
    Ok(Ok(request))
}

/// A chunked body, or `None` when it is malformed or too large.
fn read_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.by_ref().take(1024).read_line(&mut size)?;
        let size = size.trim().split(';').next().unwrap_or_default();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            return Ok(None);
        };
        if body.len() + size > MAX_BODY {
            return Ok(None);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut end = String::new();
        reader.by_ref().take(1024).read_line(&mut end)?;
        if size == 0 {
            // Trailers are not used by git; the line read was the final empty one.
            return Ok(Some(body));
        }
    }
}

fn route(request: &Request, served: &Served) -> Response {
    let (raw_path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let Some(path) = percent_decode(raw_path).and_then(|p| String::from_utf8(p).ok()) else {
        return Response::text(400, "a bad path");
    };
    if git_http::is_fetch(&path, query) {
        return fetch(request, &path, query, served);
    }
    let Some(pairs) = form_pairs(query) else {
        return Response::text(400, "a bad query");
    };
    match aur_rpc::parse(&path, &pairs) {
        None => Response::text(404, "not found"),
        Some(_) if request.method != "GET" => Response::text(405, "GET only"),
        Some(Err(error)) => Response::json(&aur_rpc::error_body(&error)),
        Some(Ok(rpc)) => match records(served) {
            Ok(records) => Response::json(&aur_rpc::answer(&rpc, &records)),
            Err(problem) => Response::text(500, &problem),
        },
    }
}

fn fetch(request: &Request, path: &str, query: &str, served: &Served) -> Response {
    let git_request = GitRequest {
        method: &request.method,
        path,
        query,
        headers: &request.headers,
        body: &request.body,
    };
    match git_http::serve(&served.repos, &git_request) {
        Ok(answer) => Response {
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        },
        Err(problem) => Response::text(500, &problem),
    }
}

/// `application/x-www-form-urlencoded` pairs, `+` for a space; `None` for a bad escape.
fn form_pairs(query: &str) -> Option<Vec<(String, String)>> {
    let decode = |s: &str| {
        percent_decode(&s.replace('+', " ")).and_then(|bytes| String::from_utf8(bytes).ok())
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(key)?, decode(value)?))
        })
        .collect()
}

/// Every package the test AUR holds on a `master`, read now.
fn records(served: &Served) -> Result<Vec<aur_rpc::Record>, String> {
    let owners = keyed_lines(&served.owners)?;
    let keywords = keyed_lines(&served.keywords)?;
    let mut records = Vec::new();
    let entries = fs::read_dir(&served.repos).map_err(|e| format!("list the repositories: {e}"))?;
    for entry in entries {
        let name = entry
            .map_err(|e| format!("list the repositories: {e}"))?
            .file_name();
        let Some(pkgbase) = name.to_str().and_then(|n| n.strip_suffix(".git")) else {
            continue;
        };
        // Repositories being created are hidden (`.new.XXXXXX`).
        if pkgbase.starts_with('.') {
            continue;
        }
        let repo = served.repos.join(&name);
        // A repository nobody pushed to yet (a clone creates it) has no package.
        let Ok(times) = git(&repo, &["log", "--format=%ct", "refs/heads/master"]) else {
            continue;
        };
        let times: Vec<i64> = times.lines().filter_map(|t| t.parse().ok()).collect();
        let (Some(last), Some(first)) = (times.first(), times.last()) else {
            continue;
        };
        let published = Published {
            pkgbase: pkgbase.to_string(),
            srcinfo: git(&repo, &["cat-file", "blob", "refs/heads/master:.SRCINFO"])?,
            maintainer: owners
                .iter()
                .rev()
                .find(|(p, _)| p == pkgbase)
                .and_then(|(_, words)| words.first().cloned())
                .unwrap_or_else(|| BOT_ACCOUNT.to_string()),
            keywords: keywords
                .iter()
                .rev()
                .find(|(p, _)| p == pkgbase)
                .map(|(_, words)| words.clone())
                .unwrap_or_default(),
            first_submitted: *first,
            last_modified: *last,
        };
        records.extend(aur_rpc::records(&published)?);
    }
    Ok(records)
}

/// The lines of `file` as `(first word, the other words)`, in file order.
fn keyed_lines(file: &Path) -> Result<Vec<(String, Vec<String>)>, String> {
    let text = fs::read_to_string(file).map_err(|e| format!("read {}: {e}", file.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace().map(str::to_string);
            Some((words.next()?, words.collect()))
        })
        .collect())
}

/// `git --git-dir REPO ARGS...` with no user or system configuration, whoever owns it.
fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(["-c", "safe.directory=*", "--git-dir"])
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", "/nonexistent")
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git {args:?} in {}: {}",
            repo.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("git printed non-UTF-8: {e}"))
}
