//! Rendering: a planned package plus its tarball's facts become one [`model::PackageModel`],
//! which is written as a PKGBUILD (tera template, `templates/PKGBUILD.tera`) and a `.SRCINFO`.
//!
//! Untrusted text reaches the PKGBUILD in exactly two ways: as a value that was validated
//! into a type whose alphabet cannot hurt bash (names, versions, checksums), or inside
//! [`shell::single_quote`]. The template itself never sees raw text: every value is quoted
//! here, before tera is involved (tera's autoescape is for HTML and is off).

pub mod model;
pub mod shell;
pub mod srcinfo;

use std::sync::OnceLock;

use alpm_types::{PackageRelation, PackageRelease};

use crate::plan::PlannedPackage;
use crate::tarball::TarballFacts;
use model::{BuildSteps, PackageModel};

/// Arch's guideline asks for about 80 characters, the AUR refuses more than 255, and makepkg's
/// whitespace rewrite grows with the cube of a value's length: 120 keeps most descriptions whole.
const PKGDESC_MAX_CHARS: usize = 120;
/// The AUR rejects longer `url` and `source` values.
const URL_MAX_CHARS: usize = 8000;
/// Where people browse Raku distributions; the homepage when upstream names none.
const RAKU_LAND: &str = "https://raku.land/";

/// Builds the model of one package.
///
/// # Errors
/// A one-line reason when a value cannot be written safely (the package is then held back).
pub fn assemble(
    p: &PlannedPackage,
    facts: &TarballFacts,
    maintainer: &str,
) -> Result<PackageModel, String> {
    let release = &p.release;
    let description = release
        .description
        .as_deref()
        .map(|d| shell::sanitize_line(d, PKGDESC_MAX_CHARS))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| format!("The Raku distribution {}", release.name));
    let source = format!("{}-{}.tar.gz::{}", p.pkgname, p.pkgver, p.source_url);
    if !shell::is_url_safe(&p.source_url) || p.source_url.len() > URL_MAX_CHARS {
        return Err(format!(
            "its tarball URL {} has characters or a length a PKGBUILD source cannot take",
            crate::text::escape_for_log(&p.source_url)
        ));
    }
    // The operator's skip-check leaves the tests out, and with them prove's perl.
    let run_tests = facts.has_tests && !p.skip_check;
    let mut checkdepends = p.checkdepends.clone();
    if run_tests {
        // check() runs the tests with perl's prove, as rakudo has no TAP harness of its own.
        let perl = PackageRelation::new(alpm_types::Name::new("perl").expect("valid name"), None);
        if !checkdepends.contains(&perl) {
            checkdepends.push(perl);
            checkdepends.sort_by_key(|r| r.to_string());
        }
    }
    // A builder compiles native code at build time, so the package is tied to its machine.
    let arch = if release.builder.is_some() {
        "x86_64"
    } else {
        "any"
    };
    Ok(PackageModel {
        pkgname: p.pkgname.clone(),
        pkgver: p.pkgver.clone(),
        pkgrel: PackageRelease::new(1, None),
        epoch: None,
        pkgdesc: description,
        url: homepage(p),
        arch: vec![arch.to_string()],
        license: vec![p.license.expression.clone()],
        depends: p.depends.clone(),
        makedepends: p.makedepends.clone(),
        checkdepends,
        optdepends: p
            .optdepends
            .iter()
            .map(|(name, why)| format!("{name}: {}", shell::sanitize_line(why, 200)))
            .collect(),
        provides: p.provides.clone(),
        conflicts: p.conflicts.clone(),
        source: vec![source],
        sha256sums: vec![facts.sha256.clone()],
        build: BuildSteps {
            dist: shell::sanitize_line(&release.identity(), 500),
            source_dir: facts.top_dir.clone(),
            tests: if run_tests {
                vec!["t".to_string()]
            } else {
                Vec::new()
            },
            bin_scripts: facts.bin_scripts.clone(),
            license_files: facts.license_files.clone(),
            maintainer: shell::sanitize_line(maintainer, 200),
        },
    })
}

/// Upstream's homepage if it is a plain http(s) URL, else the distribution's raku.land page.
fn homepage(p: &PlannedPackage) -> String {
    let upstream = p.release.homepage.as_deref().and_then(|h| {
        let parsed = url::Url::parse(h).ok()?;
        let text = parsed.to_string();
        (matches!(parsed.scheme(), "http" | "https")
            && shell::is_url_safe(&text)
            && text.len() <= URL_MAX_CHARS)
            .then_some(text)
    });
    let raku_land = || {
        let auth = p.release.auth.as_deref()?;
        let page = format!(
            "{RAKU_LAND}{}/{}",
            percent_encode(auth, b":"),
            percent_encode(&p.release.name, b"")
        );
        shell::is_url_safe(&page).then_some(page)
    };
    upstream
        .or_else(raku_land)
        .unwrap_or_else(|| RAKU_LAND.to_string())
}

/// Every byte but RFC 3986's unreserved characters (and `keep`) as `%XX`, so `Cro::HTTP`
/// cannot put a `::` (makepkg's source separator) or anything else unusual into a URL.
fn percent_encode(segment: &str, keep: &[u8]) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A PKGBUILD could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("the PKGBUILD template failed: {0}")]
    Template(String),
    #[error("{field} {value:?} is not a bare word; refusing to write it unquoted")]
    NotBare { field: &'static str, value: String },
    #[error("a value cannot be quoted for bash: {0}")]
    Quote(#[from] shell::QuoteError),
    #[error("the .SRCINFO does not pass alpm-srcinfo: {0}")]
    Srcinfo(#[from] srcinfo::SrcinfoError),
}

/// The two files of one package, as an AUR repository holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub pkgbuild: String,
    pub srcinfo: String,
}

impl Files {
    /// See [`digest`].
    pub fn digest(&self) -> String {
        digest(&self.pkgbuild, &self.srcinfo)
    }
}

/// sha256 over a PKGBUILD and a `.SRCINFO`: equal digests, equal files.
pub fn digest(pkgbuild: &str, srcinfo: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(pkgbuild.as_bytes());
    hash.update([0]);
    hash.update(srcinfo.as_bytes());
    crate::text::hex(&hash.finalize())
}

/// The PKGBUILD and the `.SRCINFO` of one model, the latter checked by alpm-srcinfo: the one
/// way both `render` and `sync` produce a package's files.
///
/// # Errors
/// As [`pkgbuild`], or when the `.SRCINFO` does not validate.
pub fn files(m: &PackageModel) -> Result<Files, RenderError> {
    let pkgbuild = pkgbuild(m)?;
    let srcinfo = srcinfo::write_srcinfo(m);
    srcinfo::validate_srcinfo(&srcinfo)?;
    Ok(Files { pkgbuild, srcinfo })
}

fn template() -> &'static tera::Tera {
    static TERA: OnceLock<tera::Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = tera::Tera::default();
        tera.add_raw_template("PKGBUILD", include_str!("../../templates/PKGBUILD.tera"))
            .expect("templates/PKGBUILD.tera parses (checked by every render test)");
        tera
    })
}

/// Values written without quotes must be made only of these characters.
fn bare(field: &'static str, value: String) -> Result<String, RenderError> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c));
    if ok {
        Ok(value)
    } else {
        Err(RenderError::NotBare { field, value })
    }
}

fn quoted_list<T: ToString>(items: &[T]) -> Result<String, shell::QuoteError> {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| shell::single_quote(&i.to_string()))
        .collect::<Result<_, _>>()?;
    Ok(quoted.join(" "))
}

/// Writes the PKGBUILD.
///
/// # Errors
/// When the template fails, or a value that is written bare is not a bare word (a bug
/// upstream of here: such values are validated types).
pub fn pkgbuild(m: &PackageModel) -> Result<String, RenderError> {
    let mut cx = tera::Context::new();
    cx.insert("maintainer", &m.build.maintainer);
    cx.insert("dist", &m.build.dist);
    cx.insert("pkgname", &bare("pkgname", m.pkgname.to_string())?);
    cx.insert("pkgver", &bare("pkgver", m.pkgver.to_string())?);
    cx.insert("pkgrel", &bare("pkgrel", m.pkgrel.to_string())?);
    cx.insert("epoch", &m.epoch.map(|e| e.to_string()));
    cx.insert("pkgdesc", &shell::single_quote(&m.pkgdesc)?);
    cx.insert("arch", &quoted_list(&m.arch)?);
    cx.insert("url", &shell::single_quote(&m.url)?);
    cx.insert("license", &quoted_list(&m.license)?);
    cx.insert("depends", &quoted_list(&m.depends)?);
    cx.insert("makedepends", &quoted_list(&m.makedepends)?);
    cx.insert("checkdepends", &quoted_list(&m.checkdepends)?);
    cx.insert("optdepends", &quoted_list(&m.optdepends)?);
    cx.insert("provides", &quoted_list(&m.provides)?);
    cx.insert("conflicts", &quoted_list(&m.conflicts)?);
    cx.insert("source", &quoted_list(&m.source)?);
    cx.insert("sha256sums", &quoted_list(&m.sha256sums)?);
    cx.insert("source_dir", &shell::single_quote(&m.build.source_dir)?);
    cx.insert("bin_scripts", &quoted_list(&m.build.bin_scripts)?);
    cx.insert("license_files", &quoted_list(&m.build.license_files)?);
    cx.insert("has_tests", &!m.build.tests.is_empty());
    template()
        .render("PKGBUILD", &cx)
        .map_err(|e| RenderError::Template(format!("{e:?}")))
}
