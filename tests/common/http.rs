//! A small static HTTP/1.1 file server on loopback, so tests never touch the network.
//!
//! It serves one directory, percent-decodes request paths (REA URLs are full of `%3A%3A`,
//! `%3C`, `%3E`, `%2A`), refuses anything that would leave that directory, logs every request,
//! and can be told to misbehave on chosen paths. Every response closes the connection, which
//! keeps the protocol side trivial and is legal HTTP/1.1.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How a request for one path goes wrong instead of being served normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status code and a short text body, whether or not the file exists.
    Status(u16),
    /// Announce the file's full length but send only the first half of it, then close.
    Truncated,
    /// Read the request and never answer, keeping the connection open until the client gives
    /// up or the server stops: a server that hangs.
    Hang,
}

/// Bounds a stalled client: a connection thread gives up after this long without progress.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests are a line and a few headers; anything bigger is not from our tests.
const MAX_HEAD: usize = 16 * 1024;

struct Shared {
    root: PathBuf,
    stopping: AtomicBool,
    faults: Mutex<HashMap<String, Fault>>,
    log: Mutex<Vec<String>>,
    /// Body bytes sent, to show that a conditional request transferred next to nothing.
    body_bytes: Mutex<u64>,
}

/// A running server; it stops (and its accept thread is joined) when dropped.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Serves the files under `root` on `127.0.0.1` at a port the OS picks.
    pub fn serve_dir(root: &Path) -> TestServer {
        // Canonical, so the containment check below compares like with like.
        let root = root
            .canonicalize()
            .unwrap_or_else(|e| panic!("test server root {}: {e}", root.display()));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address of test server");
        let shared = Arc::new(Shared {
            root,
            stopping: AtomicBool::new(false),
            faults: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            body_bytes: Mutex::new(0),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("test-http-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &shared))
                .expect("spawn test server thread")
        };
        TestServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT/`, ready to have a percent-encoded relative path appended.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Makes requests for `path` fail as `fault` describes until [`Self::clear_fault`].
    ///
    /// `path` is relative to the served directory and *decoded*, e.g.
    /// `A/App::Mi6/App::Mi6:ver<3.0.9>:auth<zef:skaji>.tar.gz`; a leading `/` is ignored.
    pub fn set_fault(&self, path: &str, fault: Fault) {
        lock(&self.shared.faults).insert(fault_key(path), fault);
    }

    /// Serves `path` normally again.
    pub fn clear_fault(&self, path: &str) {
        lock(&self.shared.faults).remove(&fault_key(path));
    }

    /// Every request so far, oldest first, as `METHOD /decoded/path` (the raw target when it
    /// could not be decoded).
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.log).clone()
    }

    /// Body bytes sent so far (headers not counted).
    pub fn body_bytes_sent(&self) -> u64 {
        *lock(&self.shared.body_bytes)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // A blocking accept() only returns when someone connects, so connect to ourselves.
        // If that fails the listener is already broken and the thread is on its way out.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            // Propagating a server panic into a drop would abort; the test sees failed
            // requests instead.
            let _ = acceptor.join();
        }
    }
}

fn fault_key(path: &str) -> String {
    path.trim_start_matches('/').to_owned()
}

/// A poisoned lock only means another connection thread panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        // Transient accept errors (e.g. a client that reset early) are not worth dying for.
        let Ok(stream) = stream else { continue };
        // Connection threads are not joined: the I/O timeouts bound how long they live, and
        // joining would make dropping the server wait for idle clients.
        let shared = Arc::clone(shared);
        let _ = thread::Builder::new()
            .name("test-http-conn".into())
            .spawn(move || {
                let _ = handle(stream, &shared);
            });
    }
}

fn handle(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?).take(MAX_HEAD as u64);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers; only a conditional request's validator changes what we answer.
    let mut if_none_match = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(value.trim().to_string());
        }
    }
    let mut out = stream;

    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return respond_text(&mut out, 400, false);
    };
    let head_only = method == "HEAD";
    // Queries are irrelevant to a file server; drop them before decoding.
    let raw_path = target.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(raw_path).and_then(|bytes| String::from_utf8(bytes).ok());
    lock(&shared.log).push(format!("{method} {}", decoded.as_deref().unwrap_or(target)));

    if method != "GET" && !head_only {
        return respond_text(&mut out, 405, false);
    }
    let Some(path) = decoded else {
        return respond_text(&mut out, 400, head_only);
    };
    let Some(relative) = safe_relative(&path) else {
        return respond_text(&mut out, 403, head_only);
    };
    let fault = lock(&shared.faults).get(&relative).copied();
    if let Some(Fault::Status(code)) = fault {
        return respond_text(&mut out, code, head_only);
    }
    if fault == Some(Fault::Hang) {
        return hang(&mut out, shared);
    }
    let Some(body) = read_served_file(&shared.root, &relative) else {
        return respond_text(&mut out, 404, head_only);
    };
    // An ETag from the content, so a changed file gets a new one.
    let etag = format!("\"{:016x}-{}\"", fnv1a(&body), body.len());
    if if_none_match.as_deref() == Some(etag.as_str()) && fault.is_none() {
        write!(
            out,
            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
        )?;
        return out.flush();
    }
    let (announced, sent) = match fault {
        // max(1) keeps the promise "announced > sent" even for an empty file.
        Some(Fault::Truncated) => (body.len().max(1), body.len() / 2),
        _ => (body.len(), body.len()),
    };
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nX-Content-Type-Options: nosniff\r\n\
         Content-Security-Policy: {STRICT_CSP}\r\nETag: {etag}\r\n\
         Content-Length: {announced}\r\nConnection: close\r\n\r\n",
        content_type(&relative)
    )?;
    if !head_only {
        out.write_all(&body[..sent])?;
        *lock(&shared.body_bytes) += sent as u64;
    }
    out.flush()
}

/// What a strict web server sends with the status site: nothing inline, nothing from
/// elsewhere. The site must work under it.
pub const STRICT_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                              img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";

/// The type a web server would give the file, by its extension; everything else (tarballs,
/// indexes) is bytes.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("txt" | "log") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Waits, answering nothing, until the client closes the connection or the server stops.
fn hang(stream: &mut TcpStream, shared: &Shared) -> io::Result<()> {
    // Short reads, so that a stopping server is noticed soon.
    stream.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut buf = [0; 512];
    while !shared.stopping.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// FNV-1a, 64 bits: a cheap content fingerprint for ETags.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The request path without its leading `/`, or `None` when a segment is `..` (or `.`, or
/// holds a NUL), which is how a request would try to leave the served directory.
fn safe_relative(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments
        .iter()
        .any(|s| *s == ".." || *s == "." || s.contains('\0'))
    {
        return None;
    }
    Some(segments.join("/"))
}

/// The file's bytes if `relative` names a regular file that really lies under `root` (a
/// symlink pointing outside does not count).
fn read_served_file(root: &Path, relative: &str) -> Option<Vec<u8>> {
    let path = root.join(relative).canonicalize().ok()?;
    if !path.starts_with(root) || !path.is_file() {
        return None;
    }
    std::fs::read(path).ok()
}

fn respond_text(out: &mut TcpStream, code: u16, head_only: bool) -> io::Result<()> {
    let reason = match code {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Test Fault",
    };
    let body = format!("{code} {reason}\n");
    write!(
        out,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if !head_only {
        out.write_all(body.as_bytes())?;
    }
    out.flush()
}

/// Decodes `%XX` escapes (either hex case) and leaves everything else, `+` included, as is:
/// in a URL path `+` is a literal plus. `None` for a malformed escape.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            // Checked first because from_str_radix would also accept a sign such as `%+5`.
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}
