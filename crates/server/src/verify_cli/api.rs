//! The service's REST API: a destination's signed checkpoints (paged by `after_sequence`) and the
//! instance's public keys.

use anyhow::{Context, bail};
use auditrelay_core::stream_proof::SignedCheckpoint;
use serde::de::DeserializeOwned;

pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

#[derive(serde::Deserialize)]
struct PublicKeys {
    keys: Vec<PublicKey>,
}

#[derive(serde::Deserialize)]
struct PublicKey {
    public_key: String,
}

impl Client {
    pub(super) fn new(url: &str, token: Option<String>) -> Client {
        Client { http: reqwest::Client::new(), base: format!("{}/api/v4", url.trim_end_matches('/')), token }
    }

    /// Every checkpoint of the destination, page after page until an empty one.
    pub(super) async fn checkpoints(&self, destination: i64) -> anyhow::Result<Vec<SignedCheckpoint>> {
        let mut all: Vec<SignedCheckpoint> = Vec::new();
        let mut after = 0u64;
        loop {
            let path = format!("/streaming_destinations/{destination}/checkpoints?after_sequence={after}");
            let page: Vec<SignedCheckpoint> = self.get(&path).await?;
            let Some(last) = page.iter().map(|c| c.checkpoint.sequence).max() else { break };
            if last <= after {
                bail!("the service answered checkpoints at or before after_sequence={after}; stopping");
            }
            after = last;
            all.extend(page);
        }
        Ok(all)
    }

    /// The public keys, current and rotated, as base64 text.
    pub(super) async fn public_keys(&self) -> anyhow::Result<Vec<String>> {
        let keys: PublicKeys = self.get("/streaming/public_key").await?;
        Ok(keys.keys.into_iter().map(|k| k.public_key).collect())
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.get(&url);
        if let Some(token) = &self.token {
            request = request.header("PRIVATE-TOKEN", token);
        }
        let response = request.send().await.with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let body = response.bytes().await.with_context(|| format!("reading the answer of {url}"))?;
        if !status.is_success() {
            bail!("GET {url} answered {status}: {}", String::from_utf8_lossy(&body));
        }
        serde_json::from_slice(&body).with_context(|| format!("GET {url}: unexpected answer"))
    }
}
