//! Archived tarballs: download, checksum, look inside, and remember.
//!
//! The PKGBUILD needs the tarball's sha256 and a few facts only its contents can tell: the
//! directory it unpacks into, the scripts in `bin/`, whether it has tests, its license
//! files. Archived tarballs never change, so those facts are cached on disk by URL and a
//! tarball is downloaded once in its life. Should a URL we already know ever be seen with
//! other bytes, that is an alarm (the package is held back), never an update.
//!
//! [`inspect`] is pure (bytes in, facts out) so it is tested on hostile archives directly;
//! [`Fetcher`] is the I/O edge.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::text::{escape_for_log, hex};

/// Bump when [`inspect`] learns something new, so cached facts are recomputed (and the
/// checksum re-verified) from a fresh download.
const FACTS_VERSION: u32 = 1;
/// Refuse to download more than this: no Raku distribution is this big.
const MAX_DOWNLOAD_BYTES: usize = 64 << 20;
/// Refuse archives that unpack to more than this (gzip bombs).
const MAX_UNPACKED_BYTES: u64 = 512 << 20;
/// Downloads at once; the VPS has two cores and the archive is someone else's server.
const PARALLEL_DOWNLOADS: usize = 4;

/// What the PKGBUILD needs to know about an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TarballFacts {
    /// Lowercase hex.
    pub sha256: String,
    /// The single directory the archive unpacks into.
    pub top_dir: String,
    /// File names in `bin/` (only names made of `[A-Za-z0-9._+-]`, not starting with `.` or `-`).
    pub bin_scripts: Vec<String>,
    /// Whether `t/` holds test files (`.t`, `.rakutest`, `.t6`).
    pub has_tests: bool,
    /// License files at the top of the distribution.
    pub license_files: Vec<String>,
    /// Files that were left out of `bin_scripts`/`license_files`, for the report.
    pub skipped_names: Vec<String>,
}

/// Reads an archive (`.tar.gz`) and finds the facts, or says why it is unusable.
pub fn inspect(gzipped: &[u8]) -> Result<TarballFacts, String> {
    let sha256 = hex(&Sha256::digest(gzipped));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gzipped));
    let mut top_dir: Option<String> = None;
    let mut bin_scripts = Vec::new();
    let mut license_files = Vec::new();
    let mut skipped_names = Vec::new();
    let mut has_tests = false;
    let mut has_meta = false;
    let mut unpacked: u64 = 0;
    let entries = archive
        .entries()
        .map_err(|e| format!("archive cannot be read: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("archive cannot be read: {e}"))?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        unpacked += entry.size();
        if unpacked > MAX_UNPACKED_BYTES {
            return Err(format!(
                "archive unpacks to more than {MAX_UNPACKED_BYTES} bytes"
            ));
        }
        let path = entry
            .path()
            .map_err(|e| format!("archive has an unreadable file name: {e}"))?
            .into_owned();
        let parts = relative_parts(&path).ok_or_else(|| {
            format!(
                "archive has an entry outside its directory: {}",
                escape_for_log(&path.to_string_lossy())
            )
        })?;
        let Some(first) = parts.first() else { continue };
        match &top_dir {
            None => top_dir = Some(first.clone()),
            Some(top) if top == first => {}
            Some(top) => {
                return Err(format!(
                    "archive does not unpack into one directory (found {} and {})",
                    escape_for_log(top),
                    escape_for_log(first)
                ));
            }
        }
        if parts.len() == 1 {
            if !kind.is_dir() {
                return Err("archive has a file at its top level, outside any directory".into());
            }
            continue;
        }
        let is_file = kind.is_file();
        let rest = &parts[1..];
        match rest {
            [name] if is_file && (name == "META6.json" || name == "META.info") => has_meta = true,
            [name] if is_file && is_license_file(name) => {
                if is_plain_file_name(name) {
                    license_files.push(name.clone());
                } else {
                    skipped_names.push(name.clone());
                }
            }
            [dir, name] if dir == "bin" && (is_file || kind.is_symlink()) => {
                if is_plain_file_name(name) {
                    bin_scripts.push(name.clone());
                } else {
                    skipped_names.push(format!("bin/{name}"));
                }
            }
            [dir, .., name] if dir == "t" && is_file && is_test_file(name) => has_tests = true,
            _ => {}
        }
    }
    let top_dir = top_dir.ok_or("archive is empty")?;
    if top_dir.chars().any(char::is_control) || top_dir.len() > 255 {
        return Err(format!(
            "archive directory {} is not usable",
            escape_for_log(&top_dir)
        ));
    }
    if !has_meta {
        return Err("archive has no META6.json".into());
    }
    bin_scripts.sort();
    bin_scripts.dedup();
    license_files.sort();
    skipped_names.sort();
    Ok(TarballFacts {
        sha256,
        top_dir,
        bin_scripts,
        has_tests,
        license_files,
        skipped_names,
    })
}

/// The path's components, if it stays inside the archive (no `/`, no `..`).
fn relative_parts(path: &Path) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?.to_string()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts)
}

/// Names that reach `/usr/bin` or `/usr/share/licenses` must be ordinary file names.
fn is_plain_file_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
}

fn is_license_file(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING", "COPYRIGHT"]
        .iter()
        .any(|p| upper.starts_with(p))
}

fn is_test_file(name: &str) -> bool {
    [".t", ".rakutest", ".t6"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// One cached archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    facts_version: u32,
    facts: TarballFacts,
}

/// `public URL → facts`, kept in `<cache dir>/tarballs.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    entries: BTreeMap<String, CacheEntry>,
}

/// Downloads and inspects archives, through the on-disk cache.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    /// `(public prefix, download prefix)` pairs, from `--mirror FROM=TO`.
    mirrors: Vec<(String, String)>,
    cache_file: PathBuf,
}

/// Counts for the log and the report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FetchStats {
    pub cached: usize,
    pub downloaded: usize,
    pub failed: usize,
}

impl Fetcher {
    pub fn new(client: reqwest::Client, mirrors: Vec<(String, String)>, cache_dir: &Path) -> Self {
        Fetcher {
            client,
            mirrors,
            cache_file: cache_dir.join("tarballs.json"),
        }
    }

    /// Where a public URL is downloaded from.
    pub fn download_url(&self, public: &str) -> String {
        for (from, to) in &self.mirrors {
            if let Some(rest) = public.strip_prefix(from.as_str()) {
                return format!("{to}{rest}");
            }
        }
        public.to_string()
    }

    /// Facts for every URL (deduplicated), from the cache or by downloading; failures are
    /// per URL. The cache is saved before returning, so what was learnt is never lost.
    ///
    /// # Errors
    /// Only when the cache file exists but cannot be read, or cannot be written.
    pub async fn facts_for(
        &self,
        urls: &[String],
    ) -> Result<(BTreeMap<String, Result<TarballFacts, String>>, FetchStats), String> {
        let mut cache = self.load_cache()?;
        let mut results = BTreeMap::new();
        let mut stats = FetchStats::default();
        let mut to_fetch = Vec::new();
        for url in urls {
            if results.contains_key(url) || to_fetch.contains(url) {
                continue;
            }
            match cache.entries.get(url) {
                Some(entry) if entry.facts_version == FACTS_VERSION => {
                    stats.cached += 1;
                    results.insert(url.clone(), Ok(entry.facts.clone()));
                }
                _ => to_fetch.push(url.clone()),
            }
        }
        let bar = crate::progress::bar("tarballs", to_fetch.len());
        let limit = Arc::new(tokio::sync::Semaphore::new(PARALLEL_DOWNLOADS));
        let mut tasks = tokio::task::JoinSet::new();
        for url in to_fetch {
            let client = self.client.clone();
            let from = self.download_url(&url);
            let limit = limit.clone();
            tasks.spawn(async move {
                let _permit = limit
                    .acquire_owned()
                    .await
                    .expect("semaphore is never closed");
                let facts = match download(&client, &from).await {
                    Ok(bytes) => tokio::task::spawn_blocking(move || inspect(&bytes))
                        .await
                        .unwrap_or_else(|e| Err(format!("inspecting the archive failed: {e}"))),
                    Err(e) => Err(e),
                };
                (url, facts)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (url, facts) = joined.map_err(|e| format!("a download task failed: {e}"))?;
            bar.inc(1);
            let facts = match facts {
                Ok(facts) => match cache.entries.get(&url) {
                    Some(old) if old.facts.sha256 != facts.sha256 => Err(format!(
                        "ALARM: the archive at this URL changed (sha256 was {}, is now {}); archives must never change",
                        old.facts.sha256, facts.sha256
                    )),
                    _ => {
                        cache.entries.insert(
                            url.clone(),
                            CacheEntry {
                                facts_version: FACTS_VERSION,
                                facts: facts.clone(),
                            },
                        );
                        Ok(facts)
                    }
                },
                Err(e) => Err(e),
            };
            match &facts {
                Ok(_) => stats.downloaded += 1,
                Err(e) => {
                    stats.failed += 1;
                    // Said here, where it happens: the report only lists the packages held.
                    tracing::warn!(error = %e, "tarball unusable; its package and those that need it are held back");
                }
            }
            results.insert(url, facts);
        }
        // The "tarballs" log line that follows says what the bar said.
        bar.finish_and_clear();
        self.save_cache(&cache)?;
        Ok((results, stats))
    }

    fn load_cache(&self) -> Result<Cache, String> {
        match std::fs::read(&self.cache_file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "checksum cache {} is corrupt ({e}); move it aside to rebuild it",
                    self.cache_file.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Cache::default()),
            Err(e) => Err(format!(
                "cannot read checksum cache {}: {e}",
                self.cache_file.display()
            )),
        }
    }

    fn save_cache(&self, cache: &Cache) -> Result<(), String> {
        let text = serde_json::to_vec_pretty(cache).expect("cache serialises");
        crate::fsutil::write_atomically(&self.cache_file, &text).map_err(|e| {
            format!(
                "cannot write checksum cache {}: {e}",
                self.cache_file.display()
            )
        })
    }
}

async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let shown = escape_for_log(url);
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("download of {shown} failed: {}", crate::fetch::explain(e)))?;
    if !response.status().is_success() {
        return Err(format!(
            "download of {shown} failed: HTTP {}",
            response.status()
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        format!(
            "download of {shown} broke off: {}",
            crate::fetch::explain(e)
        )
    })? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_DOWNLOAD_BYTES {
            return Err(format!("{shown} is larger than {MAX_DOWNLOAD_BYTES} bytes"));
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive member: a path and its text; `None` makes a directory.
    type Member<'a> = (&'a str, Option<&'a str>);

    /// Builds a .tar.gz from members.
    fn archive(files: &[Member]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, body) in files {
            let mut header = tar::Header::new_gnu();
            match body {
                Some(text) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(text.len() as u64);
                    header.set_mode(0o644);
                    // set_path refuses `..`; write the raw name to build hostile archives.
                    let name = path.as_bytes();
                    header.as_old_mut().name[..name.len()].copy_from_slice(name);
                    header.set_cksum();
                    builder.append(&header, text.as_bytes()).unwrap();
                }
                None => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    header.set_mode(0o755);
                    let name = path.as_bytes();
                    header.as_old_mut().name[..name.len()].copy_from_slice(name);
                    header.set_cksum();
                    builder.append(&header, std::io::empty()).unwrap();
                }
            }
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn finds_the_facts_of_an_ordinary_archive() {
        let bytes = archive(&[
            ("Foo-1.0/", None),
            ("Foo-1.0/META6.json", Some("{}")),
            ("Foo-1.0/LICENSE", Some("MIT")),
            ("Foo-1.0/lib/Foo.rakumod", Some("unit module Foo;")),
            ("Foo-1.0/bin/foo", Some("#!/usr/bin/env raku")),
            ("Foo-1.0/t/sub/01-basic.rakutest", Some("ok 1")),
        ]);
        let facts = inspect(&bytes).unwrap();
        assert_eq!(facts.top_dir, "Foo-1.0");
        assert_eq!(facts.bin_scripts, ["foo"]);
        assert_eq!(facts.license_files, ["LICENSE"]);
        assert!(facts.has_tests);
        assert_eq!(facts.sha256, hex(&Sha256::digest(&bytes)));
        assert_eq!(facts.sha256.len(), 64);
    }

    #[test]
    fn no_tests_no_license_no_bin() {
        let facts = inspect(&archive(&[
            ("X/META6.json", Some("{}")),
            ("X/t/README", Some("")),
        ]))
        .unwrap();
        assert!(!facts.has_tests);
        assert!(facts.bin_scripts.is_empty());
        assert!(facts.license_files.is_empty());
    }

    #[test]
    fn hostile_archives_are_refused() {
        let cases: &[(&[Member], &str)] = &[
            (
                &[("X/META6.json", Some("{}")), ("../evil", Some(""))],
                "archive has an entry outside its directory: ../evil",
            ),
            (
                &[("/etc/passwd", Some("")), ("X/META6.json", Some("{}"))],
                "archive has an entry outside its directory: /etc/passwd",
            ),
            (
                &[("X/META6.json", Some("{}")), ("Y/META6.json", Some("{}"))],
                "archive does not unpack into one directory (found X and Y)",
            ),
            (
                &[("META6.json", Some("{}"))],
                "archive has a file at its top level, outside any directory",
            ),
            (
                &[("X/lib/A.rakumod", Some(""))],
                "archive has no META6.json",
            ),
            (&[], "archive is empty"),
        ];
        for (files, expected) in cases {
            assert_eq!(inspect(&archive(files)).unwrap_err(), *expected);
        }
        assert!(
            inspect(b"not gzip")
                .unwrap_err()
                .starts_with("archive cannot be read")
        );
    }

    #[test]
    fn odd_file_names_never_become_scripts_or_license_files() {
        let facts = inspect(&archive(&[
            ("X/META6.json", Some("{}")),
            ("X/bin/$(touch pwned)", Some("")),
            ("X/bin/-rf", Some("")),
            ("X/bin/.hidden", Some("")),
            ("X/bin/ok-script", Some("")),
            ("X/LICENSE 'x'", Some("")),
        ]))
        .unwrap();
        assert_eq!(facts.bin_scripts, ["ok-script"]);
        assert!(facts.license_files.is_empty());
        assert_eq!(
            facts.skipped_names,
            [
                "LICENSE 'x'",
                "bin/$(touch pwned)",
                "bin/-rf",
                "bin/.hidden"
            ]
        );
    }

    #[test]
    fn mirrors_rewrite_only_the_download_url() {
        let f = Fetcher::new(
            reqwest::Client::new(),
            vec![(
                "https://a.example/archive/".into(),
                "http://127.0.0.1:1/x/".into(),
            )],
            Path::new("/nonexistent"),
        );
        assert_eq!(
            f.download_url("https://a.example/archive/J/J.tar.gz"),
            "http://127.0.0.1:1/x/J/J.tar.gz"
        );
        assert_eq!(
            f.download_url("https://b.example/J.tar.gz"),
            "https://b.example/J.tar.gz"
        );
    }
}
