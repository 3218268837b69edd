//! A small blocking JSON-over-HTTP client for the node's and the L1's APIs.

use serde::{de::DeserializeOwned, Serialize};
use std::time::Duration;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or the connection broke.
    #[error("{url}: {error}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// The transport error.
        error: String,
    },
    /// The server answered with a non-2xx status.
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The `kind` field of the JSON error body, if any.
        kind: String,
        /// The `error` field of the JSON error body, or the raw body.
        message: String,
    },
    /// A 2xx answer that is not the expected JSON.
    #[error("{url}: unexpected answer: {error}")]
    BadAnswer {
        /// The URL called.
        url: String,
        /// The decoding error.
        error: String,
    },
}

/// A JSON client for one base URL (e.g. `http://127.0.0.1:8545`).
#[derive(Clone)]
pub struct JsonClient {
    agent: ureq::Agent,
    base: String,
}

impl JsonClient {
    /// A client with a 60 s limit per call.
    pub fn new(base: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            // Drop idle connections well before the services close them (after
            // `crate::http::HEAD_TIMEOUT`), so a reused connection is never one being closed.
            .max_idle_age(Duration::from_secs(5))
            .build()
            .into();
        Self {
            agent,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// `GET base+path`, decoded as `T`.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{}", self.base, path);
        let res = self.agent.get(&url).call();
        Self::answer(url, res)
    }

    /// `POST base+path` with a JSON body, decoded as `T`.
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = format!("{}{}", self.base, path);
        let res = self.agent.post(&url).send_json(body);
        Self::answer(url, res)
    }

    fn answer<T: DeserializeOwned>(
        url: String,
        res: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, ClientError> {
        let mut res = res.map_err(|e| ClientError::Unreachable {
            url: url.clone(),
            error: e.to_string(),
        })?;
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .read_to_string()
            .map_err(|e| ClientError::Unreachable {
                url: url.clone(),
                error: e.to_string(),
            })?;
        if !(200..300).contains(&status) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let field = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_string);
            return Err(ClientError::Status {
                url,
                status,
                kind: field("kind").unwrap_or_default(),
                message: field("error").unwrap_or(text),
            });
        }
        serde_json::from_str(&text).map_err(|e| ClientError::BadAnswer {
            url,
            error: e.to_string(),
        })
    }
}
