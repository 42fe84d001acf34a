//! The API driven in process (no socket) against a real Postgres, with the journal and the
//! batcher running.

use std::{sync::Arc, time::Duration};

use axum::{body::Body, http::StatusCode};
use http_body_util::BodyExt;
use rollup_core::{
    genesis::{Genesis, GenesisAccount},
    schnorr::SecretKey,
    token::Token,
    transfer::{SignedTransfer, Transfer},
    tree::TreeConfig,
    withdrawal::{L1Address, Withdrawal},
};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::*;
use crate::{
    batcher, journal,
    mempool::MempoolConfig,
    node::{NodeConfig, Recovered},
    store::Store,
};

const CHAIN: u64 = 4242;

struct Harness {
    node: Arc<Node>,
    keys: Vec<SecretKey>,
    cancel: CancellationToken,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn start(db: PgPool) -> Harness {
    start_with(db, true).await
}

/// A node on `db`; its batcher runs only if `batching` (a test can then stage deposits
/// before the first batch is sealed).
async fn start_with(db: PgPool, batching: bool) -> Harness {
    let keys: Vec<SecretKey> = (0..3).map(|_| SecretKey::random()).collect();
    let accounts = keys[..2]
        .iter()
        .map(|k| GenesisAccount {
            public_key: k.public_key(),
            balance: 1_000_000,
        })
        .collect();
    let genesis = Genesis::new(CHAIN, TreeConfig::new(32, 2).unwrap(), accounts).unwrap();
    let config = NodeConfig {
        max_batch_size: 64,
        max_deposits_per_batch: 16,
        batch_interval: Duration::from_millis(20),
        mempool: MempoolConfig {
            capacity: 1_000,
            max_nonce_gap: 8,
            future_ttl: Duration::from_secs(60),
        },
        max_transfers_per_request: 100,
    };
    let Recovered {
        node,
        journal,
        next_batch,
    } = Node::recover(Store::new(db), &genesis, config)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    tokio::spawn(journal::run(Arc::clone(&node), journal, cancel.clone()));
    if batching {
        tokio::spawn(batcher::run(Arc::clone(&node), next_batch, cancel.clone()));
    }
    Harness { node, keys, cancel }
}

async fn call(
    node: &Arc<Node>,
    method: &str,
    uri: &str,
    body: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let response = router(Arc::clone(node), 64 * 1024)
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!({ "text": String::from_utf8_lossy(&bytes) })),
    )
}

fn pay(from: &SecretKey, to: &SecretKey, amount: u64, nonce: u32) -> SignedTransfer {
    Transfer {
        token: rollup_core::token::Token::Eth,
        chain_id: CHAIN,
        from: from.public_key(),
        to: to.public_key(),
        amount,
        fee: 10,
        nonce,
    }
    .sign(from)
}

async fn post(node: &Arc<Node>, body: &impl serde::Serialize) -> (StatusCode, Value) {
    call(
        node,
        "POST",
        "/v1/transfers",
        Some(serde_json::to_vec(body).unwrap()),
    )
    .await
}

async fn wait_executed(node: &Arc<Node>, hash: &str) -> Value {
    for _ in 0..200 {
        let (_, body) = call(node, "GET", &format!("/v1/transfers/{hash}"), None).await;
        if body["status"] == "executed" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("transfer {hash} was not executed in time");
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn a_transfer_is_acknowledged_executed_and_visible_in_accounts_and_batches(db: PgPool) {
    let Harness { node, keys, .. } = &start(db).await;
    let (status, body) = post(node, &pay(&keys[0], &keys[2], 5_000, 0)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "pending");
    let hash = body["hash"].as_str().unwrap().to_owned();

    let executed = wait_executed(node, &hash).await;
    assert_eq!(executed["batch"], 1);
    assert_eq!(executed["position"], 0);

    let (status, recipient) = call(
        node,
        "GET",
        &format!("/v1/accounts/{}", keys[2].public_key()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(recipient["balance"], "5000");
    assert!(recipient["index"].is_u64());
    let (_, sender) = call(
        node,
        "GET",
        &format!("/v1/accounts/{}", keys[0].public_key()),
        None,
    )
    .await;
    assert_eq!(
        (sender["balance"].as_str(), sender["nonce"].as_u64()),
        (Some("994990"), Some(1))
    );

    let (status, batch) = call(node, "GET", "/v1/batches/latest", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(batch["number"], 1);
    assert_eq!(batch["size"], 1);
    assert_eq!(
        batch["new_root"].as_str().unwrap(),
        node.state.read().unwrap().root().to_string()
    );
    assert_eq!(call(node, "GET", "/v1/batches/1", None).await.1, batch);
    assert_eq!(
        call(node, "GET", "/v1/batches/2", None).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, metrics) = call(node, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics["text"]
        .as_str()
        .unwrap()
        .contains("sequencer_transfers_executed_total 1"));
    assert_eq!(call(node, "GET", "/health", None).await.0, StatusCode::OK);
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn bad_input_gets_a_4xx_with_its_reason(db: PgPool) {
    let Harness { node, keys, .. } = &start(db).await;
    let good = pay(&keys[0], &keys[2], 100, 0);
    let good_json = serde_json::to_value(good).unwrap();
    let with = |field: &str, value: Value| {
        let mut body = good_json.clone();
        body[field] = value;
        serde_json::to_vec(&body).unwrap()
    };
    let post_raw = |body: Vec<u8>| call(node, "POST", "/v1/transfers", Some(body));

    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (b"{not json".to_vec(), StatusCode::BAD_REQUEST, "malformed"),
        (b"[]".to_vec(), StatusCode::BAD_REQUEST, "malformed"),
        (
            with("from", json!("0xzz")),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        // A non-canonical field element (a word equal to p) in the recipient's key.
        (
            with(
                "to",
                json!(format!("0x{}{}", "01000000ffffffff", "00".repeat(32))),
            ),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        (
            with("amount", json!("-5")),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        (
            with("amount", json!("123456789012345678")),
            StatusCode::BAD_REQUEST,
            "unpackable_amount",
        ),
        (
            with("amount", json!("101")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_signature",
        ),
        (
            serde_json::to_vec(
                &Transfer {
                    chain_id: 1,
                    ..good.transfer
                }
                .sign(&keys[0]),
            )
            .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_chain",
        ),
        (
            serde_json::to_vec(&pay(&keys[2], &keys[0], 1, 0)).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_account",
        ),
        (
            serde_json::to_vec(&pay(&keys[1], &keys[0], 2_000_000, 0)).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "insufficient_balance",
        ),
        (
            serde_json::to_vec(&pay(&keys[1], &keys[0], 1, 9)).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nonce_too_far",
        ),
        (
            vec![b' '; 70 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (body, status, reason) in cases {
        let (got_status, got) = post_raw(body).await;
        assert_eq!(
            (got_status, got["reason"].as_str()),
            (status, Some(reason)),
            "{got}"
        );
        assert!(got["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    assert_eq!(post(node, &good).await.0, StatusCode::ACCEPTED);
    let (status, dup) = post(node, &good).await;
    assert_eq!(
        (status, dup["reason"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate"))
    );
    let hash = post(node, &pay(&keys[0], &keys[2], 100, 1)).await.1["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_executed(node, &hash).await;
    let (status, replay) = post(node, &good).await;
    assert_eq!(
        (status, replay["reason"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("nonce_too_low"))
    );

    assert_eq!(
        call(node, "GET", "/v1/transfers/0x1234", None).await.1["reason"],
        "malformed"
    );
    let unknown = format!("0x{}", "00".repeat(32));
    assert_eq!(
        call(node, "GET", &format!("/v1/transfers/{unknown}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(node, "GET", "/v1/accounts/0x12", None).await.1["reason"],
        "malformed"
    );
    assert_eq!(
        call(node, "GET", "/v1/batches/x", None).await.1["reason"],
        "malformed"
    );
    assert_eq!(
        call(node, "GET", "/health", None).await.0,
        StatusCode::OK,
        "the service stays up"
    );
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn an_array_gets_one_outcome_per_transfer(db: PgPool) {
    let Harness { node, keys, .. } = &start(db).await;
    let mut items: Vec<Value> = (0..5)
        .map(|n| serde_json::to_value(pay(&keys[0], &keys[2], 10, n)).unwrap())
        .collect();
    items.push(json!({ "nonsense": true }));
    items.push(serde_json::to_value(pay(&keys[1], &keys[2], 10, 3)).unwrap()); // queued: nonce gap 3
    let (status, body) = post(node, &items).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["rejected"].as_u64()),
        (Some(6), Some(1))
    );
    assert_eq!(body["results"][5]["reason"], "malformed");
    assert_eq!(body["results"][6]["queued"], true);
    wait_executed(node, body["results"][4]["hash"].as_str().unwrap()).await;
    let (_, account) = call(
        node,
        "GET",
        &format!("/v1/accounts/{}", keys[2].public_key()),
        None,
    )
    .await;
    assert_eq!(account["balance"], "50");

    let (status, none) = post(node, &vec![json!(1), json!(2)]).await;
    assert_eq!(
        (status, none["accepted"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(0))
    );
}

/// Writes a deposit row as the settlement module's watcher does (its queue head is not
/// checked by the sequencer, which trusts the watcher's checks).
async fn stage_deposit(db: &PgPool, index: u64, token: Token, to: &SecretKey, amount: u64) {
    sqlx::query(
        "INSERT INTO deposits (queue_index, token, public_key, amount, queue_head, l1_block, l1_tx_hash)
         VALUES ($1, $2, $3, $4, $5, 1, $5)",
    )
    .bind(index as i64)
    .bind(i16::from(u8::from(token)))
    .bind(to.public_key().to_bytes().to_vec())
    .bind(amount as i64)
    .bind(vec![index as u8; 32])
    .execute(db)
    .await
    .unwrap();
}

async fn balances(node: &Arc<Node>, key: &SecretKey) -> Value {
    call(
        node,
        "GET",
        &format!("/v1/accounts/{}", key.public_key()),
        None,
    )
    .await
    .1
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn deposits_are_credited_first_and_withdrawals_debit_without_an_l2_credit(db: PgPool) {
    let harness = start_with(db.clone(), false).await;
    let (node, keys) = (&harness.node, &harness.keys);
    // Test tokens to a funded account, ETH to a key without an account; deposit 2 is not
    // seen yet, so deposit 3 must wait for it.
    stage_deposit(&db, 0, Token::TestToken, &keys[0], 70_000).await;
    stage_deposit(&db, 1, Token::Eth, &keys[2], 9_000).await;
    stage_deposit(&db, 3, Token::Eth, &keys[2], 1).await;
    tokio::spawn(batcher::run(Arc::clone(node), 1, harness.cancel.clone()));
    let mut credited = Value::Null;
    for _ in 0..200 {
        credited = balances(node, &keys[2]).await;
        if credited["balances"] == json!(["9000", "0"]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(credited["balances"], json!(["9000", "0"]), "{credited}");
    assert_eq!(
        balances(node, &keys[0]).await["balances"],
        json!(["1000000", "70000"])
    );
    let consumed: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT queue_index, batch_number FROM deposits ORDER BY queue_index")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(consumed, [(0, Some(1)), (1, Some(1)), (3, None)]);
    let count: i32 = sqlx::query_scalar("SELECT deposit_count FROM batches WHERE number = 1")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 2);

    // A token transfer, then a withdrawal by the account the deposit created.
    let token_transfer = Transfer {
        chain_id: CHAIN,
        from: keys[0].public_key(),
        to: keys[1].public_key(),
        amount: 20_000,
        fee: 5,
        nonce: 0,
        token: Token::TestToken,
    }
    .sign(&keys[0]);
    let (status, body) = post(node, &token_transfer).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let withdrawal = Withdrawal {
        chain_id: CHAIN,
        from: keys[2].public_key(),
        recipient: L1Address([0xab; 20]),
        token: Token::Eth,
        amount: 8_000,
        fee: 10,
        nonce: 0,
    }
    .sign(&keys[2]);
    let (status, body) = call(
        node,
        "POST",
        "/v1/withdrawals",
        Some(serde_json::to_vec(&withdrawal).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let hash = body["hash"].as_str().unwrap().to_owned();
    wait_executed(node, &hash).await;
    assert_eq!(
        balances(node, &keys[2]).await["balances"],
        json!(["990", "0"])
    );
    assert_eq!(
        balances(node, &keys[0]).await["balances"],
        json!(["1000000", "49995"])
    );
    assert_eq!(
        balances(node, &keys[1]).await["balances"],
        json!(["1000000", "20000"])
    );
    let fees: (i64, i64) =
        sqlx::query_as("SELECT sum(fees)::bigint, sum(token_fees)::bigint FROM batches")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(fees, (10, 5));

    // More than the balance, or a bad signature, is refused with its reason.
    let overdraw = Withdrawal {
        amount: 1_000,
        nonce: 1,
        ..withdrawal.withdrawal
    }
    .sign(&keys[2]);
    let (status, body) = call(
        node,
        "POST",
        "/v1/withdrawals",
        Some(serde_json::to_vec(&overdraw).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["reason"], "insufficient_balance");
    let forged = Withdrawal {
        amount: 10,
        nonce: 1,
        ..withdrawal.withdrawal
    }
    .sign(&keys[0]);
    let (status, body) = call(
        node,
        "POST",
        "/v1/withdrawals",
        Some(serde_json::to_vec(&forged).unwrap()),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(body["reason"], "bad_signature");
    let mut bad_recipient = serde_json::to_value(withdrawal).unwrap();
    bad_recipient["recipient"] = json!("0x1234");
    let (status, body) = call(
        node,
        "POST",
        "/v1/withdrawals",
        Some(serde_json::to_vec(&bad_recipient).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("L1 address"),
        "{body}"
    );
}

/// A batch and its transfers go executed → proven (the prover's final job done) → verified
/// (settlement's L1 transaction confirmed, whose hash the batch then names); an attempt that
/// is only sent or reverted verifies nothing.
#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn batches_and_transfers_report_proven_then_verified_on_l1(db: PgPool) {
    let Harness { node, keys, .. } = &start(db.clone()).await;
    let hash = post(node, &pay(&keys[0], &keys[2], 5_000, 0)).await.1["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_executed(node, &hash).await;
    let stage = |body: Value| (body["status"].clone(), body["l1_tx_hash"].clone());
    let batch = || call(node, "GET", "/v1/batches/1", None);
    assert_eq!(stage(batch().await.1), (json!("executed"), Value::Null));

    sqlx::query(
        "INSERT INTO prover_jobs (batch_number, kind, job_key, input, is_final, status, pending_deps, max_attempts, result)
         VALUES (1, 'wrap', 'wrap/0', '', true, 'done', 0, 1, '\\x01')",
    )
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(stage(batch().await.1), (json!("proven"), Value::Null));
    let transfer_path = format!("/v1/transfers/{hash}");
    let transfer = || call(node, "GET", &transfer_path, None);
    assert_eq!(transfer().await.1["status"], "proven");

    let l1_tx = |tx: u8, status: &'static str| {
        sqlx::query(
            "INSERT INTO l1_transactions (batch_number, tx_hash, sender, nonce, gas_limit,
                 max_fee_per_gas, max_priority_fee_per_gas, raw, status, block_number, gas_used)
             VALUES (1, $1, $2, $3, 10000000, 1, 1, '\\x00', $4,
                     CASE WHEN $4 = 'sent' THEN NULL ELSE 7 END,
                     CASE WHEN $4 = 'sent' THEN NULL ELSE 3800000 END)",
        )
        .bind(vec![tx; 32])
        .bind(vec![0xAA_u8; 20])
        .bind(i64::from(tx))
        .bind(status)
        .execute(&db)
    };
    l1_tx(1, "reverted").await.unwrap();
    l1_tx(2, "sent").await.unwrap();
    assert_eq!(stage(batch().await.1), (json!("proven"), Value::Null));
    sqlx::query(
        "UPDATE l1_transactions SET status = 'confirmed', block_number = 8, gas_used = 3800000
         WHERE nonce = 2",
    )
    .execute(&db)
    .await
    .unwrap();
    let tx_hash = format!("0x{}", "02".repeat(32));
    assert_eq!(stage(batch().await.1), (json!("verified"), json!(tx_hash)));
    assert_eq!(transfer().await.1["status"], "verified");
    assert_eq!(
        stage(call(node, "GET", "/v1/batches/latest", None).await.1),
        (json!("verified"), json!(tx_hash))
    );
}
