//! A client of the sequencer's HTTP API: what the wallet CLI and tools call.

use rollup_core::{
    hash::Digest, schnorr::PublicKey, transfer::SignedTransfer, withdrawal::SignedWithdrawal,
};
use serde_json::Value;

use crate::{Error, Result};

/// The default API address (the sequencer's default listen address).
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// A sequencer's API.
#[derive(Clone, Debug)]
pub struct SequencerClient {
    base: String,
    http: reqwest::Client,
}

impl SequencerClient {
    /// A client of the API at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// The chain id the sequencer serves (from `GET /health`).
    pub async fn chain_id(&self) -> Result<u64> {
        let health = self.get("/health").await?;
        health["chain_id"]
            .as_u64()
            .ok_or_else(|| Error::Corrupt(format!("no chain id in the health answer {health}")))
    }

    /// `GET /v1/accounts/{address}`.
    pub async fn account(&self, key: &PublicKey) -> Result<Value> {
        self.get(&format!("/v1/accounts/{key}")).await
    }

    /// `GET /v1/transfers/{hash}`.
    pub async fn transfer(&self, hash: &Digest) -> Result<Value> {
        self.get(&format!("/v1/transfers/{hash}")).await
    }

    /// `POST /v1/transfers` with one transfer; returns the acknowledgement.
    pub async fn submit(&self, transfer: &SignedTransfer) -> Result<Value> {
        let url = format!("{}/v1/transfers", self.base);
        let response = self.http.post(&url).json(transfer).send().await;
        Self::answer(url, response).await
    }

    /// `POST /v1/withdrawals` with one withdrawal; returns the acknowledgement.
    pub async fn submit_withdrawal(&self, withdrawal: &SignedWithdrawal) -> Result<Value> {
        let url = format!("{}/v1/withdrawals", self.base);
        let response = self.http.post(&url).json(withdrawal).send().await;
        Self::answer(url, response).await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self.http.get(&url).send().await;
        Self::answer(url, response).await
    }

    /// The JSON body of a 2xx answer, or the API's reason as an error.
    async fn answer(url: String, response: reqwest::Result<reqwest::Response>) -> Result<Value> {
        let response = response.map_err(|source| Error::Http {
            url: url.clone(),
            source,
        })?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|source| Error::Http { url, source })?;
        if status.is_success() {
            return Ok(body);
        }
        Err(Error::Refused {
            status: status.as_u16(),
            reason: body["reason"].as_str().unwrap_or("unknown").to_owned(),
            message: body["message"].as_str().unwrap_or_default().to_owned(),
        })
    }
}
