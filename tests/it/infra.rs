//! Tests of the test infrastructure itself: the loopback HTTP server and the tarball fixtures.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common;
use common::fixtures::{
    ArchiveOptions, Hostile, REA_ARCHIVE_PREFIX, archive_bytes, archive_index, archive_rel_path,
    default_top_dir, write_archive_for, write_archive_with,
};
use common::http::{Fault, TestServer};
use flate2::read::GzDecoder;
use serde_json::Value;
use tar::EntryType;

const SAMPLE: &str = "tests/data/rea-sample.json";
const PAGES: &str = "tests/data/rea-pages.json";

fn load(index: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(index);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn entry(index: &str, name: &str, version: &str) -> Value {
    load(index)
        .into_iter()
        .find(|e| e["name"] == name && e["version"] == version)
        .unwrap_or_else(|| panic!("{name} {version} not in {index}"))
}

struct Response {
    status: u16,
    content_length: Option<usize>,
    body: Vec<u8>,
}

/// One request over a plain TcpStream; `target` goes into the request line verbatim, so tests
/// control exactly which bytes the server has to decode.
fn request(server: &TestServer, method: &str, target: &str) -> Response {
    let authority = server
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = TcpStream::connect(&authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response has a header block");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status = status_line[9..12].parse().unwrap();
    let content_length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse().unwrap());
    Response {
        status,
        content_length,
        body: raw[split + 4..].to_vec(),
    }
}

fn get(server: &TestServer, target: &str) -> Response {
    request(server, "GET", target)
}

/// The request target the real renderer would send for `entry`'s `source-url`.
fn rea_target(entry: &Value) -> String {
    let url = entry["source-url"].as_str().unwrap();
    format!("/{}", url.strip_prefix(REA_ARCHIVE_PREFIX).unwrap())
}

struct Listed {
    path: String,
    kind: EntryType,
    mode: u32,
    link: Option<String>,
    contents: Vec<u8>,
}

/// Every entry of a .tar.gz with its raw (unsanitised) name, checking the header fields that
/// make the archive reproducible on the way.
fn list(tar_gz: &[u8]) -> Vec<Listed> {
    let mut archive = tar::Archive::new(GzDecoder::new(tar_gz));
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header();
        let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        assert_eq!(header.mtime().unwrap(), 0, "{path}");
        assert_eq!(header.uid().unwrap(), 0, "{path}");
        assert_eq!(header.gid().unwrap(), 0, "{path}");
        let kind = header.entry_type();
        let mode = header.mode().unwrap();
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8(l.into_owned()).unwrap());
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).unwrap();
        out.push(Listed {
            path,
            kind,
            mode,
            link,
            contents,
        });
    }
    out
}

fn find<'a>(listing: &'a [Listed], path: &str) -> &'a Listed {
    listing
        .iter()
        .find(|l| l.path == path)
        .unwrap_or_else(|| panic!("{path} not in archive"))
}

fn paths(listing: &[Listed]) -> Vec<&str> {
    listing.iter().map(|l| l.path.as_str()).collect()
}

// --- the server ---

#[test]
fn serves_a_fixture_tarball_byte_identically_at_its_encoded_rea_path() {
    let root = tempfile::tempdir().unwrap();
    let mi6 = entry(SAMPLE, "App::Mi6", "3.0.9");
    let file = write_archive_for(&mi6, root.path(), REA_ARCHIVE_PREFIX);
    assert_eq!(
        file,
        root.path()
            .join("A/App::Mi6/App::Mi6:ver<3.0.9>:auth<zef:skaji>.tar.gz")
    );
    let server = TestServer::serve_dir(root.path());

    let target = rea_target(&mi6);
    assert!(target.contains("%3A%3A") && target.contains("%3C"));
    let response = get(&server, &target);

    let expected = std::fs::read(&file).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.content_length, Some(expected.len()));
    assert!(response.body == expected, "body differs from the file");
    assert_eq!(
        server.requests(),
        ["GET /A/App::Mi6/App::Mi6:ver<3.0.9>:auth<zef:skaji>.tar.gz"]
    );
}

#[test]
fn decodes_escapes_in_either_case_and_keeps_plus_literal() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("a:b<c>*+d.txt"), "odd name\n").unwrap();
    let server = TestServer::serve_dir(root.path());

    for target in ["/a%3Ab%3Cc%3E%2A+d.txt", "/a%3ab%3cc%3e%2a%2Bd.txt"] {
        let response = get(&server, target);
        assert_eq!(response.status, 200, "{target}");
        assert_eq!(response.body, b"odd name\n", "{target}");
    }
    // `+` is not a space in a path, and a broken escape is a client error.
    assert_eq!(get(&server, "/a%3Ab%3Cc%3E%2A%20d.txt").status, 404);
    assert_eq!(get(&server, "/a%3").status, 400);
    assert_eq!(get(&server, "/a%+3b").status, 400);
}

#[test]
fn unknown_paths_and_directories_are_404() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("dir")).unwrap();
    let server = TestServer::serve_dir(root.path());
    for target in ["/missing.tar.gz", "/dir", "/dir/", "/"] {
        let response = get(&server, target);
        assert_eq!(response.status, 404, "{target}");
        assert_eq!(response.body, b"404 Not Found\n");
    }
    assert_eq!(request(&server, "POST", "/missing.tar.gz").status, 405);
}

#[test]
fn refuses_to_serve_anything_outside_its_directory() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(base.path().join("secret"), "do not serve\n").unwrap();
    std::os::unix::fs::symlink("../secret", root.join("link")).unwrap();
    let server = TestServer::serve_dir(&root);

    for target in [
        "/../secret",
        "/sub/../../secret",
        "/%2E%2E/secret",
        "/sub/%2e%2e/%2e%2e/secret",
        "/..%2Fsecret",
    ] {
        let response = get(&server, target);
        assert_eq!(response.status, 403, "{target}");
        assert!(!String::from_utf8_lossy(&response.body).contains("do not serve"));
    }
    // A symlink inside the root that points out of it is not followed.
    assert_eq!(get(&server, "/link").status, 404);
}

#[test]
fn head_reports_the_length_without_a_body() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("f.tar.gz"), vec![7u8; 1234]).unwrap();
    let server = TestServer::serve_dir(root.path());
    let response = request(&server, "HEAD", "/f.tar.gz");
    assert_eq!(response.status, 200);
    assert_eq!(response.content_length, Some(1234));
    assert!(response.body.is_empty());
    assert_eq!(request(&server, "HEAD", "/nope").status, 404);
    assert_eq!(server.requests(), ["HEAD /f.tar.gz", "HEAD /nope"]);
}

#[test]
fn injects_status_and_truncation_faults_per_path() {
    let root = tempfile::tempdir().unwrap();
    let base64 = entry(SAMPLE, "Base64", "0.1.0");
    let file = write_archive_for(&base64, root.path(), REA_ARCHIVE_PREFIX);
    let full = std::fs::read(&file).unwrap();
    let rel = archive_rel_path(&base64, REA_ARCHIVE_PREFIX);
    let target = rea_target(&base64);
    let server = TestServer::serve_dir(root.path());

    server.set_fault(&rel, Fault::Status(500));
    let response = get(&server, &target);
    assert_eq!(response.status, 500);
    assert_eq!(response.body, b"500 Internal Server Error\n");

    // The leading slash is optional; the fault replaces the previous one.
    server.set_fault(&format!("/{rel}"), Fault::Status(404));
    assert_eq!(get(&server, &target).status, 404);

    server.set_fault(&rel, Fault::Truncated);
    let response = get(&server, &target);
    assert_eq!(response.status, 200);
    assert_eq!(response.content_length, Some(full.len()));
    assert_eq!(response.body, full[..full.len() / 2]);

    // Faults apply to paths with no file behind them too.
    server.set_fault("gone.tar.gz", Fault::Status(503));
    assert_eq!(get(&server, "/gone.tar.gz").status, 503);

    server.clear_fault(&rel);
    let response = get(&server, &target);
    assert_eq!(response.status, 200);
    assert!(response.body == full);

    let logged = format!("GET /{rel}");
    let logged = logged.as_str();
    assert_eq!(
        server.requests(),
        [logged, logged, logged, "GET /gone.tar.gz", logged]
    );
}

#[test]
fn a_hanging_path_reads_the_request_and_never_answers_until_the_server_stops() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("index.json"), "[]").unwrap();
    let server = TestServer::serve_dir(root.path());
    server.set_fault("index.json", Fault::Hang);
    let authority = server.base_url()[7..].trim_end_matches('/').to_owned();
    let mut stream = TcpStream::connect(&authority).unwrap();
    write!(
        stream,
        "GET /index.json HTTP/1.1\r\nHost: {authority}\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0; 64];
    let silence = stream.read(&mut buf).unwrap_err();
    assert!(
        matches!(
            silence.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{silence:?}"
    );
    assert_eq!(server.requests(), ["GET /index.json"]);

    // Other paths are served meanwhile.
    assert_eq!(get(&server, "/nothing-here").status, 404);

    // Stopping the server closes the hanging connection without a byte sent.
    drop(server);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(stream.read(&mut buf).unwrap(), 0);
}

#[test]
fn dropping_the_server_stops_it_promptly_even_with_an_idle_client() {
    let root = tempfile::tempdir().unwrap();
    let server = TestServer::serve_dir(root.path());
    let authority = server.base_url()[7..].trim_end_matches('/').to_owned();
    let _idle = TcpStream::connect(&authority).unwrap();

    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(TcpStream::connect(&authority).is_err());
}

#[tokio::test]
async fn a_real_http_client_gets_fixtures_and_sees_faults() {
    let root = tempfile::tempdir().unwrap();
    // Its source-url has a raw space, which the client has to encode and the server decode.
    let teddy = entry(PAGES, "Teddy Bear", "0.0.2");
    let file = write_archive_for(&teddy, root.path(), REA_ARCHIVE_PREFIX);
    let server = TestServer::serve_dir(root.path());
    let url = teddy["source-url"]
        .as_str()
        .unwrap()
        .replace(REA_ARCHIVE_PREFIX, &server.base_url());
    let client = reqwest::Client::new();

    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap() == std::fs::read(&file).unwrap());

    let rel = archive_rel_path(&teddy, REA_ARCHIVE_PREFIX);
    server.set_fault(&rel, Fault::Status(500));
    assert_eq!(client.get(&url).send().await.unwrap().status(), 500);

    server.set_fault(&rel, Fault::Truncated);
    let response = client.get(&url).send().await.unwrap();
    assert!(response.bytes().await.is_err(), "a short body must fail");

    let logged = format!("GET /{rel}");
    let logged = logged.as_str();
    assert!(logged.contains("Teddy Bear"));
    assert_eq!(server.requests(), [logged, logged, logged]);
}

// --- the fixtures ---

#[test]
fn archives_are_deterministic() {
    let mi6 = entry(SAMPLE, "App::Mi6", "3.0.9");
    let options = ArchiveOptions {
        bin_scripts: vec!["mi6".into()],
        hostile: vec![
            Hostile::RawName("../escape".into()),
            Hostile::Symlink {
                path: "lib/link".into(),
                target: "/etc/passwd".into(),
            },
        ],
        ..ArchiveOptions::default()
    };
    let first = archive_bytes(&mi6, &options);
    assert!(first == archive_bytes(&mi6, &options));
    // gzip header: no timestamp, "unknown" OS, so the bytes do not depend on the build host.
    assert_eq!(&first[..4], [0x1f, 0x8b, 8, 0]);
    assert_eq!(&first[4..8], [0, 0, 0, 0]);
    assert_eq!(first[9], 255);

    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let in_a = std::fs::read(write_archive_for(&mi6, a.path(), REA_ARCHIVE_PREFIX)).unwrap();
    let in_b = std::fs::read(write_archive_for(&mi6, b.path(), REA_ARCHIVE_PREFIX)).unwrap();
    assert!(in_a == in_b);

    // Entries come out sorted by path (a directory's own name sorts before its contents).
    let listing = list(&in_a);
    let names: Vec<&str> = paths(&listing)
        .into_iter()
        .map(|p| p.trim_end_matches('/'))
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
}

#[test]
fn an_archive_holds_meta_modules_a_load_test_and_a_license() {
    let base64 = entry(SAMPLE, "Base64", "0.1.0");
    assert_eq!(default_top_dir(&base64), "Base64-0.1.0");
    let listing = list(&archive_bytes(&base64, &ArchiveOptions::default()));
    assert_eq!(
        paths(&listing),
        [
            "Base64-0.1.0/",
            "Base64-0.1.0/LICENSE",
            "Base64-0.1.0/META6.json",
            "Base64-0.1.0/lib/",
            "Base64-0.1.0/lib/Base64.rakumod",
            "Base64-0.1.0/t/",
            "Base64-0.1.0/t/00-load.rakutest",
        ]
    );
    for l in &listing {
        let (kind, mode) = if l.path.ends_with('/') {
            (EntryType::Directory, 0o755)
        } else {
            (EntryType::Regular, 0o644)
        };
        assert_eq!((l.kind, l.mode), (kind, mode), "{}", l.path);
    }
    let meta: Value = serde_json::from_slice(&find(&listing, "Base64-0.1.0/META6.json").contents)
        .expect("META6.json is JSON");
    assert_eq!(meta, base64);
    assert_eq!(
        find(&listing, "Base64-0.1.0/lib/Base64.rakumod").contents,
        b"unit module Base64;\n"
    );
    let test = String::from_utf8(
        find(&listing, "Base64-0.1.0/t/00-load.rakutest")
            .contents
            .clone(),
    )
    .unwrap();
    assert!(test.starts_with("use Base64;\n"), "{test}");
    assert!(test.contains("say 'ok 1"), "{test}");
    let license = &find(&listing, "Base64-0.1.0/LICENSE").contents;
    assert!(String::from_utf8_lossy(license).contains("Artistic-2.0"));
}

#[test]
fn scripts_come_from_provides_the_bin_map_and_options() {
    let abc = entry(PAGES, "ABC", "0.6.13");
    let listing = list(&archive_bytes(&abc, &ArchiveOptions::default()));
    let script = find(&listing, "ABC-0.6.13/bin/abc2ly");
    assert_eq!(script.mode, 0o755);
    assert!(script.contents.starts_with(b"#!/usr/bin/env raku\n"));
    // bin/ entries are scripts, so the load test uses the first *module*.
    let test = &find(&listing, "ABC-0.6.13/t/00-load.rakutest").contents;
    assert!(test.starts_with(b"use ABC::Actions;\n"));

    let six = entry(PAGES, "6pm", "0.0.11");
    let options = ArchiveOptions {
        bin_scripts: vec!["$(touch x)".into()],
        ..ArchiveOptions::default()
    };
    let listing = list(&archive_bytes(&six, &options));
    assert_eq!(find(&listing, "6pm-0.0.11/bin/6pm").mode, 0o755);
    assert_eq!(find(&listing, "6pm-0.0.11/bin/$(touch x)").mode, 0o755);
}

#[test]
fn options_change_top_dir_license_and_extra_files() {
    let base64 = entry(SAMPLE, "Base64", "0.1.0");
    let options = ArchiveOptions {
        top_dir: Some("Raku-Base64-main".into()),
        without_license: true,
        extra_files: vec![
            ("README.md".into(), "# Base64\n".into()),
            ("t/01-more.rakutest".into(), "say '1..0';\n".into()),
        ],
        ..ArchiveOptions::default()
    };
    let listing = list(&archive_bytes(&base64, &options));
    assert!(
        paths(&listing)
            .iter()
            .all(|p| p.starts_with("Raku-Base64-main/"))
    );
    assert!(!paths(&listing).iter().any(|p| p.ends_with("LICENSE")));
    assert_eq!(
        find(&listing, "Raku-Base64-main/README.md").contents,
        b"# Base64\n"
    );
    find(&listing, "Raku-Base64-main/t/01-more.rakutest");
    find(&listing, "Raku-Base64-main/t/00-load.rakutest");
}

#[test]
fn hostile_entries_are_written_verbatim_and_unsafe_provides_skipped() {
    let mut evil = entry(SAMPLE, "Base64", "0.1.0");
    evil["provides"]["Up"] = "../up.rakumod".into();
    evil["provides"]["Abs"] = "/abs.rakumod".into();
    evil["provides"]["Empty"] = "lib//x.rakumod".into();
    let options = ArchiveOptions {
        hostile: vec![
            Hostile::SecondTopDir("Other-1.0".into()),
            Hostile::Symlink {
                path: "lib/passwd".into(),
                target: "../../../etc/passwd".into(),
            },
            Hostile::RawName("/etc/passwd".into()),
            Hostile::RawName("../escape".into()),
        ],
        ..ArchiveOptions::default()
    };
    let listing = list(&archive_bytes(&evil, &options));
    let names = paths(&listing);
    assert!(
        !names
            .iter()
            .any(|p| p.contains("up.rakumod") || p.contains("abs.rakumod"))
    );
    assert!(!names.iter().any(|p| p.contains("x.rakumod")));

    let tops: std::collections::BTreeSet<_> = names
        .iter()
        .filter(|p| !p.starts_with('/') && !p.starts_with(".."))
        .map(|p| p.split('/').next().unwrap())
        .collect();
    assert_eq!(
        tops.into_iter().collect::<Vec<_>>(),
        ["Base64-0.1.0", "Other-1.0"]
    );

    let link = find(&listing, "Base64-0.1.0/lib/passwd");
    assert_eq!(link.kind, EntryType::Symlink);
    assert_eq!(link.link.as_deref(), Some("../../../etc/passwd"));
    for raw in ["/etc/passwd", "../escape"] {
        let l = find(&listing, raw);
        assert_eq!(
            (l.kind, l.contents.as_slice()),
            (EntryType::Regular, &b"hostile\n"[..])
        );
    }
}

#[test]
fn whole_indexes_are_archived_where_the_server_will_look() {
    for (index, expected) in [(SAMPLE, 64), (PAGES, 698)] {
        let root = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(index);
        let count = archive_index(&path, REA_ARCHIVE_PREFIX, root.path());
        eprintln!("{index}: {count} archives in {:?}", started.elapsed());
        assert_eq!(count, expected);

        let mut on_disk = 0;
        let mut dirs = vec![root.path().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    dirs.push(e.path());
                } else {
                    on_disk += 1;
                }
            }
        }
        assert_eq!(on_disk, expected, "one file per entry, nothing else");
        for e in load(index) {
            let file = root.path().join(archive_rel_path(&e, REA_ARCHIVE_PREFIX));
            let top = format!("{}/", default_top_dir(&e));
            let listing = list(&std::fs::read(&file).unwrap());
            assert_eq!(listing[0].path, top, "{}", file.display());
        }
    }

    // Entries elsewhere are skipped, not counted.
    let dir = tempfile::tempdir().unwrap();
    let mut other = entry(SAMPLE, "Base64", "0.1.0");
    other["source-url"] = "https://example.org/Base64.tar.gz".into();
    let index = dir.path().join("index.json");
    std::fs::write(&index, Value::Array(vec![other]).to_string()).unwrap();
    assert_eq!(
        archive_index(&index, REA_ARCHIVE_PREFIX, &dir.path().join("a")),
        0
    );
    assert!(!dir.path().join("a").exists());
}

#[test]
fn options_written_to_disk_match_the_in_memory_archive() {
    let root = tempfile::tempdir().unwrap();
    let base64 = entry(SAMPLE, "Base64", "0.1.0");
    let options = ArchiveOptions {
        without_license: true,
        ..ArchiveOptions::default()
    };
    let file = write_archive_with(&base64, root.path(), REA_ARCHIVE_PREFIX, &options);
    assert!(std::fs::read(file).unwrap() == archive_bytes(&base64, &options));
}
