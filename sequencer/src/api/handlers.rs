//! The API's handlers.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use rollup_core::{
    account::partition_of_key,
    hash::Digest,
    schnorr::PublicKey,
    token::{Token, TOKENS},
    transaction::SignedTransaction,
    transfer::SignedTransfer,
    withdrawal::SignedWithdrawal,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::ApiError;
use crate::{admission::Admission, mempool::Placement, node::Node, store::StoredStatus};

type ApiResult<T> = Result<T, ApiError>;

/// A submission: one operation, or many, each parsed on its own so one bad item does not
/// hide the others' outcomes.
enum Submission {
    One(Box<SignedTransaction>),
    Many(Vec<Result<SignedTransaction, ApiError>>),
}

/// Parses a body of `T`s (transfers or withdrawals, `what` names them in errors).
fn parse_submission<T>(body: &[u8], max_items: usize, what: &str) -> ApiResult<Submission>
where
    T: DeserializeOwned + Into<SignedTransaction>,
{
    let parse = |item: Result<T, serde_json::Error>| {
        item.map(Into::into)
            .map_err(|e| ApiError::malformed(format!("invalid {what}: {e}")))
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let items: Vec<Value> = serde_json::from_slice(body)
            .map_err(|e| ApiError::malformed(format!("invalid JSON array: {e}")))?;
        if items.is_empty() {
            return Err(ApiError::malformed(format!(
                "empty array: submit at least one {what}"
            )));
        }
        if items.len() > max_items {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_many_transfers",
                format!(
                    "{} {what}s in one request, at most {max_items}",
                    items.len()
                ),
            ));
        }
        Ok(Submission::Many(
            items
                .into_iter()
                .map(|item| parse(serde_json::from_value::<T>(item)))
                .collect(),
        ))
    } else {
        parse(serde_json::from_slice::<T>(body)).map(|t| Submission::One(Box::new(t)))
    }
}

fn accepted_json(hash: Digest, placement: Placement) -> Value {
    json!({ "hash": hash, "status": "pending", "queued": placement == Placement::Queued })
}

/// `POST /v1/transfers`.
pub(super) async fn submit_transfers(
    State(node): State<Arc<Node>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    submit::<SignedTransfer>(node, body, "transfer").await
}

/// `POST /v1/withdrawals`.
pub(super) async fn submit_withdrawals(
    State(node): State<Arc<Node>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    submit::<SignedWithdrawal>(node, body, "withdrawal").await
}

/// Admits one or many signed operations of one kind.
async fn submit<T>(
    node: Arc<Node>,
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> ApiResult<Response>
where
    T: DeserializeOwned + Into<SignedTransaction>,
{
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "too_large", "request body too large")
        } else {
            ApiError::malformed(rejection.body_text())
        }
    })?;
    match parse_submission::<T>(&body, node.config.max_transfers_per_request, what)? {
        Submission::One(transaction) => {
            let outcome = node.submit(vec![*transaction]).await?.remove(0);
            let (hash, placement) = outcome.map_err(ApiError::from)?;
            Ok((StatusCode::ACCEPTED, Json(accepted_json(hash, placement))).into_response())
        }
        Submission::Many(items) => {
            let valid: Vec<SignedTransaction> = items
                .iter()
                .filter_map(|i| i.as_ref().ok().copied())
                .collect();
            let mut outcomes = node.submit(valid).await?.into_iter();
            let results: Vec<Result<(Digest, Placement), ApiError>> = items
                .into_iter()
                .map(|item| {
                    item.and_then(|_| {
                        let outcome: Admission =
                            outcomes.next().expect("one outcome per valid item");
                        outcome.map_err(ApiError::from)
                    })
                })
                .collect();
            let accepted = results.iter().filter(|r| r.is_ok()).count();
            let status = match results.iter().find_map(|r| r.as_ref().err()) {
                Some(first_error) if accepted == 0 => first_error.status,
                _ => StatusCode::ACCEPTED,
            };
            let results: Vec<Value> = results
                .into_iter()
                .map(|result| match result {
                    Ok((hash, placement)) => accepted_json(hash, placement),
                    Err(error) => json!({ "reason": error.reason, "message": error.message }),
                })
                .collect();
            let body = json!({ "accepted": accepted, "rejected": results.len() - accepted, "results": results });
            Ok((status, Json(body)).into_response())
        }
    }
}

/// `GET /v1/transfers/{hash}`.
pub(super) async fn transfer_status(
    State(node): State<Arc<Node>>,
    Path(hash): Path<String>,
) -> ApiResult<Json<Value>> {
    let hash: Digest = hash
        .parse()
        .map_err(|e: rollup_core::Error| ApiError::malformed(e.to_string()))?;
    let status = node
        .store
        .transfer_status(&hash)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no transfer {hash}")))?;
    Ok(Json(match status {
        StoredStatus::Pending => json!({ "hash": hash, "status": "pending" }),
        StoredStatus::Executed {
            batch,
            position,
            stage,
        } => {
            json!({ "hash": hash, "status": stage.as_str(), "batch": batch, "position": position })
        }
        StoredStatus::Rejected { reason, message } => {
            json!({ "hash": hash, "status": "rejected", "reason": reason, "message": message })
        }
    }))
}

/// `GET /v1/accounts/{address}`: the executed state (in stored batches) and the pending
/// one (with every acknowledged, executable transfer applied).
pub(super) async fn account(
    State(node): State<Arc<Node>>,
    Path(address): Path<String>,
) -> ApiResult<Json<Value>> {
    let key: PublicKey = address
        .parse()
        .map_err(|e: rollup_core::Error| ApiError::malformed(e.to_string()))?;
    let state = node.state.read().expect("state lock");
    let executed = state
        .account(&key)
        .map(|(index, account)| (index, *account));
    let pending = node
        .mempool
        .lock()
        .expect("mempool lock")
        .pending_account(&state, &key);
    let partition = partition_of_key(&key, &state.config());
    drop(state);
    let Some(pending) = pending else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_account",
            format!("no account {key}"),
        ));
    };
    let (index, balances, nonce) = match executed {
        Some((index, account)) => (Some(index), account.balances, account.nonce),
        None => (None, [0; TOKENS], 0),
    };
    // `balance` and `pending_balance` are the ETH ones (the single-token API); `balances`
    // and `pending_balances` list every token's, by token number.
    let decimal = |balances: [u64; TOKENS]| balances.map(|b| b.to_string());
    Ok(Json(json!({
        "address": key,
        "partition": partition,
        "index": index,
        "balance": balances[Token::Eth.index()].to_string(),
        "balances": decimal(balances),
        "nonce": nonce,
        "pending_balance": pending.balance(Token::Eth).to_string(),
        "pending_balances": decimal(pending.balances),
        "pending_nonce": pending.nonce,
    })))
}

/// `GET /v1/batches/{number}`.
pub(super) async fn batch(
    State(node): State<Arc<Node>>,
    Path(number): Path<String>,
) -> ApiResult<Json<Value>> {
    let number: u64 = number.parse().map_err(|_| {
        ApiError::malformed(format!(
            "batch number {number:?} is not a non-negative integer"
        ))
    })?;
    batch_json(&node, Some(number)).await
}

/// `GET /v1/batches/latest`.
pub(super) async fn latest_batch(State(node): State<Arc<Node>>) -> ApiResult<Json<Value>> {
    batch_json(&node, None).await
}

async fn batch_json(node: &Node, number: Option<u64>) -> ApiResult<Json<Value>> {
    let record = node
        .store
        .batch(number)
        .await?
        .ok_or_else(|| match number {
            Some(n) => ApiError::not_found(format!("no batch {n}")),
            None => ApiError::not_found("no batch sealed yet"),
        })?;
    Ok(Json(
        serde_json::to_value(record).expect("batch record serializes"),
    ))
}

/// `GET /health`: 200 while the database answers, 503 (with the reason) when not, so a
/// load balancer stops routing to a node that could not store a batch.
pub(super) async fn health(State(node): State<Arc<Node>>) -> (StatusCode, Json<Value>) {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(node.store.pool())
        .await
    {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "ok", "chain_id": node.chain_id })),
        ),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": error.to_string() })),
        ),
    }
}

/// `GET /metrics`: Prometheus text exposition.
pub(super) async fn metrics(State(node): State<Arc<Node>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        node.metrics.render(),
    )
}

/// Any other route.
pub(super) async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}
