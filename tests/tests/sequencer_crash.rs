//! The sequencer is killed with SIGKILL in the middle of a load and restarted: every
//! transfer it acknowledged is there (and executes), every transfer it reported executed
//! kept its batch and position, the total supply is conserved and the root matches.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use integration_tests::{free_port, workspace_binary, Service, TestDatabase};
use rollup_core::{
    genesis::{Genesis, GenesisAccount},
    schnorr::SecretKey,
    transfer::Transfer,
    tree::TreeConfig,
};
use sequencer::store::Store;
use serde_json::Value;

const CHAIN: u64 = 777;
const ACCOUNTS: usize = 16;
const FUNDS: u64 = 1_000_000_000;

/// What the load saw: acknowledged hashes, and where those reported executed were.
#[derive(Default)]
struct Observed {
    acknowledged: Vec<String>,
    executed: HashMap<String, (u64, u64)>,
}

async fn status(client: &reqwest::Client, service: SocketAddr, hash: &str) -> Option<Value> {
    let response = client
        .get(format!("http://{service}/v1/transfers/{hash}"))
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

/// Sends rounds of one transfer per account (nonce = round) until the service dies.
async fn load(service: SocketAddr, keys: Arc<Vec<SecretKey>>, observed: Arc<Mutex<Observed>>) {
    let client = reqwest::Client::new();
    for round in 0u32.. {
        let transfers: Vec<_> = (0..ACCOUNTS)
            .map(|i| {
                let to = keys[(i + 1 + round as usize) % ACCOUNTS].public_key();
                Transfer {
                    token: rollup_core::token::Token::Eth,
                    chain_id: CHAIN,
                    from: keys[i].public_key(),
                    to,
                    amount: 1_000,
                    fee: 3,
                    nonce: round,
                }
                .sign(&keys[i])
            })
            .collect();
        let Ok(response) = client
            .post(format!("http://{service}/v1/transfers"))
            .json(&transfers)
            .send()
            .await
        else {
            return;
        };
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        let hashes: Vec<String> = body["results"]
            .as_array()
            .expect("per-transfer results")
            .iter()
            .map(|r| {
                r["hash"]
                    .as_str()
                    .expect("every transfer accepted")
                    .to_owned()
            })
            .collect();
        // Look up one transfer of an earlier round: record it if it is executed.
        let earlier = observed
            .lock()
            .unwrap()
            .acknowledged
            .get(round as usize * ACCOUNTS / 2)
            .cloned();
        if let Some(hash) = earlier {
            if let Some(found) = status(&client, service, &hash).await {
                if found["status"] == "executed" {
                    let at = (
                        found["batch"].as_u64().unwrap(),
                        found["position"].as_u64().unwrap(),
                    );
                    observed.lock().unwrap().executed.insert(hash, at);
                }
            }
        }
        observed.lock().unwrap().acknowledged.extend(hashes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_transfers_survive_a_sigkill_during_load() {
    let db = TestDatabase::create("crash").await;
    let dir = std::env::temp_dir().join(format!("crash-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keys: Arc<Vec<SecretKey>> = Arc::new((0..ACCOUNTS).map(|_| SecretKey::random()).collect());
    let accounts = keys
        .iter()
        .map(|k| GenesisAccount {
            public_key: k.public_key(),
            balance: FUNDS,
        })
        .collect();
    let genesis = Genesis::new(CHAIN, TreeConfig::new(32, 4).unwrap(), accounts).unwrap();
    let genesis_path = dir.join("genesis.json");
    std::fs::write(&genesis_path, genesis.to_json()).unwrap();

    let address: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let args: Vec<String> = [
        "--database-url",
        &db.url,
        "--listen",
        &address.to_string(),
        "--genesis",
        genesis_path.to_str().unwrap(),
        "--batch-interval-ms",
        "30",
        "--max-batch-size",
        "100",
    ]
    .map(String::from)
    .to_vec();
    let binary = workspace_binary("sequencer");
    let mut service = Service::start(&binary, &args, address, Duration::from_secs(30)).await;

    let observed = Arc::new(Mutex::new(Observed::default()));
    let loader = tokio::spawn(load(address, Arc::clone(&keys), Arc::clone(&observed)));
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    service.kill();
    loader.await.unwrap();
    let (acknowledged, executed) = {
        let observed = observed.lock().unwrap();
        (observed.acknowledged.clone(), observed.executed.clone())
    };
    assert!(
        acknowledged.len() >= 2 * ACCOUNTS,
        "the load ran ({} acknowledged)",
        acknowledged.len()
    );
    assert!(
        !executed.is_empty(),
        "some transfers were reported executed before the kill"
    );
    eprintln!(
        "killed after {} acknowledged transfers, {} seen executed",
        acknowledged.len(),
        executed.len()
    );

    let service = Service::start(&binary, &args, address, Duration::from_secs(30)).await;
    let client = reqwest::Client::new();
    for hash in &acknowledged {
        let mut found = Value::Null;
        for _ in 0..300 {
            found = status(&client, address, hash)
                .await
                .expect("every acknowledged transfer is known");
            if found["status"] == "executed" {
                break;
            }
            assert_eq!(found["status"], "pending", "{hash}: {found}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            found["status"], "executed",
            "{hash} never executed after the restart"
        );
        if let Some(&(batch, position)) = executed.get(hash) {
            assert_eq!(
                (found["batch"].as_u64(), found["position"].as_u64()),
                (Some(batch), Some(position))
            );
        }
    }

    // The node keeps serving: the next transfer of an account is accepted and executed.
    let account: Value = client
        .get(service.url(&format!("/v1/accounts/{}", keys[0].public_key())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nonce = account["pending_nonce"].as_u64().unwrap() as u32;
    let next = Transfer {
        token: rollup_core::token::Token::Eth,
        chain_id: CHAIN,
        from: keys[0].public_key(),
        to: keys[1].public_key(),
        amount: 1,
        fee: 1,
        nonce,
    }
    .sign(&keys[0]);
    let response = client
        .post(service.url("/v1/transfers"))
        .json(&next)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    // Supply: the balances plus the fees paid equal the genesis funds. Root: the state
    // rebuilt from the stored accounts has the newest batch's root (load_state checks it)
    // and the API reports the same.
    drop(service);
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let balances: i64 = sqlx::query_scalar("SELECT sum(balance)::bigint FROM accounts")
        .fetch_one(&pool)
        .await
        .unwrap();
    let fees: i64 = sqlx::query_scalar("SELECT coalesce(sum(fees), 0)::bigint FROM batches")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((balances + fees) as u64, ACCOUNTS as u64 * FUNDS);
    let (state, latest) = Store::new(pool.clone())
        .load_state(&genesis)
        .await
        .expect("root matches the newest batch");
    let stored_root: Vec<u8> = sqlx::query_scalar("SELECT new_root FROM batches WHERE number = $1")
        .bind(latest as i64)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state.root().to_bytes().to_vec(), stored_root);
    pool.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
