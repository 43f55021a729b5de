//! Stand-ins for REA's archived distribution tarballs, built from index entries.
//!
//! The bytes are deterministic (mtime 0, uid/gid 0, fixed modes, entries in sorted order, a
//! fixed gzip header), so a checksum computed in one test run holds in the next. Options add the
//! oddities and hostile entries that the renderer's tarball inspection must cope with.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use serde_json::{Value, json};
use tar::{EntryType, Header};

use super::http::percent_decode;

/// Where REA keeps its archives; the `source-url` of every entry in `tests/data/rea-*.json`
/// starts with this.
pub const REA_ARCHIVE_PREFIX: &str = "https://raw.githubusercontent.com/raku/REA/main/archive/";

/// The distributions of the small ecosystem written for the tests (`tests/fixtures/ecosystem/`),
/// as (directory, META6) pairs, sorted by directory.
pub fn fixture_metas() -> Vec<(PathBuf, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ecosystem");
    let mut dists: Vec<(PathBuf, Value)> = fs::read_dir(&root)
        .expect("read the fixture ecosystem")
        .map(|e| e.expect("read a fixture").path())
        .map(|dir| {
            let meta = fs::read(dir.join("META6.json")).expect("read META6.json");
            let meta = serde_json::from_slice(&meta).expect("META6.json is JSON");
            (dir, meta)
        })
        .collect();
    dists.sort_by(|a, b| a.0.cmp(&b.0));
    dists
}

/// Writes the REA archive of the fixture in `source` (a directory of
/// `tests/fixtures/ecosystem/`) where `entry`'s `source-url` puts it under `archive_root`:
/// like REA's archives, one top directory, `<Dist-Name>-<version>`.
pub fn write_fixture_archive(source: &Path, entry: &Value, archive_root: &Path) {
    let rel = archive_rel_path(entry, REA_ARCHIVE_PREFIX);
    let top = format!(
        "{}-{}",
        source.file_name().expect("a name").to_string_lossy(),
        entry["version"].as_str().expect("version")
    );
    let dest = archive_root.join(&rel);
    fs::create_dir_all(dest.parent().expect("a parent")).expect("mkdir the archive");
    fs::write(&dest, pack_dir(source, &top)).expect("write an archive");
}

/// A gzipped tarball of `dir` under the single top directory `top`, as REA archives are;
/// deterministic (sorted entries, mtime 0, root-owned) so checksums are stable.
fn pack_dir(dir: &Path, top: &str) -> Vec<u8> {
    let mut paths = Vec::new();
    collect(dir, &mut paths);
    paths.sort();
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = Header::new_gnu();
    header.set_entry_type(EntryType::Directory);
    header.set_mode(0o755);
    header.set_size(0);
    header.set_mtime(0);
    builder
        .append_data(&mut header, format!("{top}/"), &[][..])
        .expect("tar the top directory");
    for path in paths {
        let rel = path.strip_prefix(dir).expect("inside the fixture");
        let name = format!("{top}/{}", rel.display());
        let meta = fs::symlink_metadata(&path).expect("stat a fixture file");
        let mut header = Header::new_gnu();
        header.set_mtime(0);
        if meta.is_dir() {
            header.set_entry_type(EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            builder.append_data(&mut header, format!("{name}/"), &[][..])
        } else {
            let data = fs::read(&path).expect("read a fixture file");
            let executable = meta.mode() & 0o111 != 0;
            header.set_entry_type(EntryType::Regular);
            header.set_mode(if executable { 0o755 } else { 0o644 });
            header.set_size(data.len() as u64);
            builder.append_data(&mut header, name, &data[..])
        }
        .expect("tar a fixture entry");
    }
    let tar = builder.into_inner().expect("finish the tar");
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::default());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("finish gzip")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a fixture directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, out);
        }
        out.push(path);
    }
}

/// The REA index entry for a fixture: its META6 plus what REA adds (`dist`, a release date,
/// and a `source-url` under [`REA_ARCHIVE_PREFIX`]).
pub fn index_entry(meta: &Value) -> Value {
    let name = meta["name"].as_str().expect("name");
    let dist = format!(
        "{name}:ver<{}>:auth<{}>",
        meta["version"].as_str().expect("version"),
        meta["auth"].as_str().expect("auth")
    );
    let mut entry = meta.clone();
    let first = name.chars().next().expect("a name").to_ascii_uppercase();
    entry["dist"] = json!(dist);
    entry["release-date"] = json!("2026-01-01");
    entry["source-url"] = json!(format!(
        "{REA_ARCHIVE_PREFIX}{first}/{}/{}.tar.gz",
        percent_encode(name),
        percent_encode(&dist)
    ));
    entry
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What to put into an archive besides the files every fixture gets.
#[derive(Debug, Clone, Default)]
pub struct ArchiveOptions {
    /// The single top-level directory; `None` uses [`default_top_dir`].
    pub top_dir: Option<String>,
    /// Leave out the `LICENSE` file.
    pub without_license: bool,
    /// Extra scripts written as `bin/<name>` (mode 0755). Names are taken as given, so
    /// `$(touch x)` makes a hostile but valid file name.
    pub bin_scripts: Vec<String>,
    /// Extra regular files: (path relative to the top dir, contents).
    pub extra_files: Vec<(String, String)>,
    /// Entries that a well-formed distribution never has.
    pub hostile: Vec<Hostile>,
}

/// Entries a renderer has to reject or survive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hostile {
    /// A second top-level directory (holding a `README`) beside the real one.
    SecondTopDir(String),
    /// A symlink at `path` (relative to the top dir) pointing at `target`, taken verbatim.
    Symlink { path: String, target: String },
    /// A regular file whose name is written into the tar header byte for byte, bypassing the
    /// `tar` crate's checks: `/etc/passwd`, `../escape`, a file beside the top dir. At most 99
    /// bytes (it has to fit the classic header's name field).
    RawName(String),
}

/// The top-level directory name a real archive would use: the dist name with `::` turned
/// into `-`, then `-` and the version, e.g. `App-Mi6-3.0.9`.
pub fn default_top_dir(entry: &Value) -> String {
    format!(
        "{}-{}",
        field(entry, "name").replace("::", "-"),
        field(entry, "version")
    )
}

/// Writes the archive for `entry` with default options; see [`write_archive_with`].
pub fn write_archive_for(entry: &Value, archive_root: &Path, url_prefix: &str) -> PathBuf {
    write_archive_with(entry, archive_root, url_prefix, &ArchiveOptions::default())
}

/// Writes the archive for `entry` at `archive_root/<source-url after url_prefix, decoded>`, so
/// a [`super::http::TestServer`] on `archive_root` serves it at `base_url()` + that same rest of
/// the URL. Returns the file's path.
pub fn write_archive_with(
    entry: &Value,
    archive_root: &Path,
    url_prefix: &str,
    options: &ArchiveOptions,
) -> PathBuf {
    let dest = archive_root.join(archive_rel_path(entry, url_prefix));
    let parent = dest.parent().expect("archive path has a parent");
    fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    fs::write(&dest, archive_bytes(entry, options))
        .unwrap_or_else(|e| panic!("write {}: {e}", dest.display()));
    dest
}

/// The archive's path relative to the served root: the entry's `source-url` minus
/// `url_prefix`, percent-decoded. This is also the path [`super::http::TestServer::set_fault`]
/// and its request log use.
pub fn archive_rel_path(entry: &Value, url_prefix: &str) -> String {
    let url = field(entry, "source-url");
    let rest = url
        .strip_prefix(url_prefix)
        .unwrap_or_else(|| panic!("source-url {url} does not start with {url_prefix}"));
    let decoded = percent_decode(rest)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| panic!("source-url {url} does not percent-decode to UTF-8"));
    assert!(
        is_safe_relative(&decoded),
        "source-url {url} would write outside the archive root"
    );
    decoded
}

/// Writes an archive for every entry of the REA-format JSON array in `index_json` whose
/// `source-url` starts with `url_prefix`; returns how many.
pub fn archive_index(index_json: &Path, url_prefix: &str, archive_root: &Path) -> usize {
    let text = fs::read_to_string(index_json)
        .unwrap_or_else(|e| panic!("read {}: {e}", index_json.display()));
    let index: Vec<Value> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a JSON array: {e}", index_json.display()));
    index
        .iter()
        .filter(|e| {
            e["source-url"]
                .as_str()
                .is_some_and(|u| u.starts_with(url_prefix))
        })
        .inspect(|e| {
            write_archive_for(e, archive_root, url_prefix);
        })
        .count()
}

/// One node of the well-formed part of the tree.
enum Node {
    Dir,
    File { mode: u32, data: Vec<u8> },
    Symlink(String),
}

/// The gzip-compressed tarball for `entry`, without touching the file system.
pub fn archive_bytes(entry: &Value, options: &ArchiveOptions) -> Vec<u8> {
    let top = options
        .top_dir
        .clone()
        .unwrap_or_else(|| default_top_dir(entry));
    let mut tree = Tree::default();

    let mut meta = serde_json::to_vec_pretty(entry).expect("entry serialises");
    meta.push(b'\n');
    tree.file(format!("{top}/META6.json"), 0o644, meta);

    // Sorted by module name so "the first module" is the same whatever the JSON map order.
    let mut provides: Vec<(&String, &str)> = entry["provides"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(module, path)| Some((module, path.as_str()?)))
        .filter(|(_, path)| is_safe_relative(path))
        .collect();
    provides.sort();
    let mut first_module = None;
    for (module, path) in &provides {
        if path.starts_with("bin/") {
            tree.file(format!("{top}/{path}"), 0o755, script(module));
        } else {
            first_module.get_or_insert(*module);
            tree.file(
                format!("{top}/{path}"),
                0o644,
                format!("unit module {module};\n").into(),
            );
        }
    }
    // Some META6 files list their scripts in a `bin` map instead of `provides`.
    let listed_bins = entry["bin"].as_object().into_iter().flatten();
    for (name, path) in listed_bins {
        if let Some(path) = path
            .as_str()
            .filter(|p| p.starts_with("bin/") && is_safe_relative(p))
        {
            tree.file(format!("{top}/{path}"), 0o755, script(name));
        }
    }
    for name in &options.bin_scripts {
        tree.file(format!("{top}/bin/{name}"), 0o755, script(name));
    }

    let load_test = match first_module {
        Some(module) => format!("use {module};\nsay '1..1';\nsay 'ok 1 - {module} loads';\n"),
        None => "say '1..1';\nsay 'ok 1 - nothing to load';\n".to_owned(),
    };
    tree.file(format!("{top}/t/00-load.rakutest"), 0o644, load_test.into());
    if !options.without_license {
        let license = entry["license"].as_str().unwrap_or("NOASSERTION");
        let text = format!("Stand-in licence text for a test fixture ({license}).\n");
        tree.file(format!("{top}/LICENSE"), 0o644, text.into());
    }
    for (path, contents) in &options.extra_files {
        tree.file(format!("{top}/{path}"), 0o644, contents.clone().into());
    }

    let mut raw_names = Vec::new();
    for hostile in &options.hostile {
        match hostile {
            Hostile::SecondTopDir(dir) => {
                let text = b"A second top-level directory.\n".to_vec();
                tree.file(format!("{dir}/README"), 0o644, text);
            }
            Hostile::Symlink { path, target } => {
                tree.add(format!("{top}/{path}"), Node::Symlink(target.clone()));
            }
            Hostile::RawName(name) => raw_names.push(name.as_str()),
        }
    }
    raw_names.sort_unstable();

    let mut builder = tar::Builder::new(Vec::new());
    for (path, node) in &tree.0 {
        let mut header = Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match node {
            Node::Dir => {
                header.set_entry_type(EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, format!("{path}/"), &[][..])
            }
            Node::File { mode, data } => {
                header.set_entry_type(EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, path, &data[..])
            }
            Node::Symlink(target) => {
                header.set_entry_type(EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target)
            }
        }
        .unwrap_or_else(|e| panic!("tar entry {path}: {e}"));
    }
    for name in raw_names {
        let mut header = Header::new_gnu();
        let slot = &mut header.as_gnu_mut().expect("GNU header").name;
        assert!(name.len() < slot.len(), "raw name {name} is too long");
        slot[..name.len()].copy_from_slice(name.as_bytes());
        let data = b"hostile\n";
        header.set_entry_type(EntryType::Regular);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder
            .append(&header, &data[..])
            .unwrap_or_else(|e| panic!("tar entry {name}: {e}"));
    }
    let tar = builder.into_inner().expect("finish tar");

    // Explicit mtime and OS byte: the gzip header must not depend on when or where we ran.
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::default());
    gz.write_all(&tar).expect("gzip into memory");
    gz.finish().expect("finish gzip")
}

/// The well-formed part of an archive, keyed (and so ordered) by path.
#[derive(Default)]
struct Tree(BTreeMap<String, Node>);

impl Tree {
    /// Adds `node` at `path` together with a directory entry for each missing parent, as real
    /// archives have.
    fn add(&mut self, path: String, node: Node) {
        for (i, _) in path.match_indices('/') {
            self.0.entry(path[..i].to_owned()).or_insert(Node::Dir);
        }
        self.0.insert(path, node);
    }

    fn file(&mut self, path: String, mode: u32, data: Vec<u8>) {
        self.add(path, Node::File { mode, data });
    }
}

fn script(name: &str) -> Vec<u8> {
    format!("#!/usr/bin/env raku\nsay 'this is {name}';\n").into()
}

/// Non-empty, relative, `/`-separated, no empty, `.` or `..` segment, no NUL: a path that
/// stays inside the directory it is joined to.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

fn field<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry[key]
        .as_str()
        .unwrap_or_else(|| panic!("index entry has no string `{key}`: {entry}"))
}
