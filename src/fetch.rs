//! Whole documents over HTTP (the ecosystem index, the AUR's metadata), fetched the way a
//! cron job on a small VPS should: conditionally (ETag / Last-Modified, so an unchanged
//! 20 MB index costs a few hundred bytes), gzip accepted, transient failures retried with
//! backoff, and a last good copy kept on disk.
//!
//! The cache is only replaced through [`HttpCache::remember`], which the caller invokes after
//! the new body has parsed: a truncated or garbled download never replaces the last good copy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::text::hex;

/// Attempts per document; a VPS's network hiccups, the AUR has outages.
const ATTEMPTS: u32 = 3;
/// The wait before the second attempt; it doubles after each failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// A downloaded (or revalidated) document.
#[derive(Debug)]
pub struct Document {
    pub bytes: Vec<u8>,
    /// False when the server said 304 and the bytes are the cached copy.
    pub fresh: bool,
    validators: Validators,
}

/// What the server said about a document's version.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Validators {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Of the body, so a body and validators from different downloads never pair up.
    sha256: String,
}

/// Last good copies of documents, one pair of files per URL under `<dir>/http/`.
#[derive(Debug, Clone)]
pub struct HttpCache {
    dir: PathBuf,
}

impl HttpCache {
    pub fn new(cache_dir: &Path) -> Self {
        HttpCache {
            dir: cache_dir.join("http"),
        }
    }

    fn paths(&self, url: &str) -> (PathBuf, PathBuf) {
        let key = hex(&Sha256::digest(url.as_bytes())[..16]);
        (
            self.dir.join(format!("{key}.json")),
            self.dir.join(format!("{key}.body")),
        )
    }

    /// The cached copy of `url`, if one is on disk and whole.
    fn cached(&self, url: &str) -> Option<(Validators, Vec<u8>)> {
        let (meta, body) = self.paths(url);
        let validators: Validators = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
        let bytes = std::fs::read(body).ok()?;
        (validators.url == url && validators.sha256 == sha256_hex(&bytes)).then_some(())?;
        Some((validators, bytes))
    }

    /// Fetches `url`, sending the cached copy's validators; a 304 returns the cached bytes.
    ///
    /// # Errors
    /// A one-line message after the last attempt failed, or at once for a 4xx.
    pub async fn get(&self, client: &reqwest::Client, url: &str) -> Result<Document, String> {
        let cached = self.cached(url);
        let mut backoff = FIRST_BACKOFF;
        let mut last_error = String::new();
        for attempt in 1..=ATTEMPTS {
            match self.try_once(client, url, cached.as_ref()).await {
                Ok(doc) => return Ok(doc),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Transient(e)) => {
                    tracing::warn!(url, attempt, error = %e, "download failed");
                    last_error = e;
                }
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        Err(format!("{last_error} (tried {ATTEMPTS} times)"))
    }

    async fn try_once(
        &self,
        client: &reqwest::Client,
        url: &str,
        cached: Option<&(Validators, Vec<u8>)>,
    ) -> Result<Document, Failure> {
        let mut request = client.get(url);
        if let Some((v, _)) = cached {
            if let Some(etag) = &v.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(date) = &v.last_modified {
                request = request.header(IF_MODIFIED_SINCE, date);
            }
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Transient(format!("cannot download {url}: {}", explain(e))))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED
            && let Some((validators, bytes)) = cached
        {
            return Ok(Document {
                bytes: bytes.clone(),
                fresh: false,
                validators: validators.clone(),
            });
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::Transient(format!(
                "cannot download {url}: HTTP {status}"
            )));
        }
        if !status.is_success() {
            return Err(Failure::Final(format!(
                "cannot download {url}: HTTP {status}"
            )));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
        // A body cut short by the server fails here (reqwest checks Content-Length).
        let bytes = response.bytes().await.map_err(|e| {
            Failure::Transient(format!("download of {url} broke off: {}", explain(e)))
        })?;
        let validators = Validators {
            url: url.to_string(),
            etag,
            last_modified,
            sha256: sha256_hex(&bytes),
        };
        Ok(Document {
            // Without a copy when reqwest's buffer is the only owner: the AUR's metadata is
            // 11–20 MB.
            bytes: Vec::from(bytes),
            fresh: true,
            validators,
        })
    }

    /// Keeps `doc` as the last good copy; call it only once the bytes have parsed.
    pub fn remember(&self, doc: &Document) -> std::io::Result<()> {
        if !doc.fresh {
            return Ok(());
        }
        let (meta, body) = self.paths(&doc.validators.url);
        // Body first: after a crash between the two, the old validators' digest does not
        // match the new body, and the next run simply downloads again.
        crate::fsutil::write_atomically(&body, &doc.bytes)?;
        let json = serde_json::to_vec(&doc.validators).expect("validators serialise");
        crate::fsutil::write_atomically(&meta, &json)
    }
}

/// A reqwest error with its causes, which say what actually happened: reqwest's own text
/// ("error sending request") says neither "timed out" nor "connection closed". The URL is
/// left out; the caller names it.
pub(crate) fn explain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let more = c.to_string();
        // Layers often repeat the message of the error they wrap.
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

enum Failure {
    /// Worth another try: the network, a timeout, a 5xx or 429.
    Transient(String),
    /// Retrying cannot help: a 4xx.
    Final(String),
}
