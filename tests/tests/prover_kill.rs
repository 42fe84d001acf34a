//! Prover workers scale out and survive a crash: one worker is killed with SIGKILL while it
//! holds a job, two others prove the batch together; the dead worker's job is taken again
//! once its lease expires, every job ends with one stored result, the final proof verifies
//! natively and states the stored batch, and the sequencer reports the batch proven.

use std::{
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use integration_tests::{free_port, workspace_binary, Service, TestDatabase};
use plonky2::plonk::proof::ProofWithPublicInputs;
use prover::circuits::{
    aggregation::{top::statement_words, tree::CircuitSet},
    chunk::ChunkParams,
};
use rollup_core::{
    batch_data::DataCommitment,
    genesis::{Genesis, GenesisAccount},
    hash::Digest,
    schnorr::SecretKey,
    statement::BatchStatement,
    transfer::Transfer,
    tree::TreeConfig,
};
use serde_json::Value;
use sqlx::{PgPool, Row};

const CHAIN: u64 = 4242;
/// Two merge levels are plenty for a small batch and keep the circuit build short.
const MERGE_LEVELS: usize = 2;

fn prover(database: &str, genesis: &Path, cache: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(workspace_binary("prover"));
    command
        .args(["--database-url", database, "--genesis"])
        .arg(genesis)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--merge-levels", &MERGE_LEVELS.to_string()])
        .args(extra)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdin(Stdio::null());
    command
}

fn start_worker(database: &str, genesis: &Path, cache: &Path) -> (Child, u16) {
    let port = free_port();
    let child = prover(
        database,
        genesis,
        cache,
        &[
            "--lease",
            "3s",
            "--metrics-listen",
            &format!("127.0.0.1:{port}"),
        ],
    )
    .spawn()
    .expect("start a prover");
    (child, port)
}

async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_prove_a_batch_while_a_third_is_killed_mid_job() {
    let db = TestDatabase::create("prover_kill").await;
    let dir = std::env::temp_dir().join(format!("prover_kill_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // Four partitions; accounts in two of them, transfers inside and across them.
    let tree = TreeConfig::new(16, 2).unwrap();
    let keys: Vec<SecretKey> = (0..6).map(|_| SecretKey::random()).collect();
    let accounts = keys
        .iter()
        .map(|k| GenesisAccount {
            public_key: k.public_key(),
            balance: 1_000_000,
        })
        .collect();
    let genesis = Genesis::new(CHAIN, tree, accounts).unwrap();
    let genesis_path = dir.join("genesis.json");
    std::fs::write(&genesis_path, genesis.to_json()).unwrap();
    let cache = dir.join("circuits");

    // Build the circuits once, so that the workers load them in seconds.
    let status = prover(&db.url, &genesis_path, &cache, &["--prepare-only"])
        .status()
        .expect("run the prover");
    assert!(status.success(), "preparing the circuits failed");

    let sequencer_address: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let args: Vec<String> = [
        "--database-url",
        &db.url,
        "--listen",
        &sequencer_address.to_string(),
        "--genesis",
        genesis_path.to_str().unwrap(),
        "--batch-interval-ms",
        "100",
    ]
    .map(String::from)
    .to_vec();
    let sequencer = Service::start(
        &workspace_binary("sequencer"),
        &args,
        sequencer_address,
        Duration::from_secs(30),
    )
    .await;
    let client = reqwest::Client::new();
    let transfers: Vec<_> = (0..keys.len())
        .map(|i| {
            Transfer {
                token: rollup_core::token::Token::Eth,
                chain_id: CHAIN,
                from: keys[i].public_key(),
                to: keys[(i + 1) % keys.len()].public_key(),
                amount: 1_000 + i as u64,
                fee: 5,
                nonce: 0,
            }
            .sign(&keys[i])
        })
        .collect();
    let response: Value = client
        .post(sequencer.url("/v1/transfers"))
        .json(&transfers)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first_hash = response["results"][0]["hash"].as_str().unwrap().to_owned();
    let pool = PgPool::connect(&db.url).await.unwrap();
    let batch: i64 = wait_until("a sealed batch", Duration::from_secs(30), || async {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM batch_transfers")
            .fetch_one(&pool)
            .await
            .ok()?;
        (count == keys.len() as i64).then_some(())?;
        sqlx::query_scalar("SELECT max(number) FROM batches")
            .fetch_one(&pool)
            .await
            .ok()
    })
    .await;

    // The victim plans the batch and claims a job; it dies holding it.
    let (mut victim, _) = start_worker(&db.url, &genesis_path, &cache);
    let victim_pid = victim.id() as i32;
    let held_job: i64 = wait_until(
        "the victim to hold a job",
        Duration::from_secs(300),
        || async {
            sqlx::query_scalar(
                "SELECT j.id FROM prover_jobs j JOIN prover_workers w ON w.id = j.lease_owner
             WHERE j.status = 'running' AND w.pid = $1 LIMIT 1",
            )
            .bind(victim_pid)
            .fetch_optional(&pool)
            .await
            .ok()
            .flatten()
        },
    )
    .await;
    victim.kill().unwrap();
    victim.wait().unwrap();

    let mut workers: Vec<Child> = (0..2)
        .map(|_| start_worker(&db.url, &genesis_path, &cache).0)
        .collect();
    let proof_bytes: Vec<u8> = wait_until("the batch proof", Duration::from_secs(1500), || async {
        sqlx::query_scalar(
            "SELECT result FROM prover_jobs WHERE batch_number = $1 AND is_final AND status = 'done'",
        )
        .bind(batch)
        .fetch_optional(&pool)
        .await
        .ok()
        .flatten()
    })
    .await;

    // The dead worker's job was taken again after its lease expired, and proven once.
    let row = sqlx::query(
        "SELECT status, attempts, result IS NOT NULL AS stored FROM prover_jobs WHERE id = $1",
    )
    .bind(held_job)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("status"), "done");
    assert!(
        row.get::<i32, _>("attempts") >= 2,
        "the killed attempt counts"
    );
    assert!(row.get::<bool, _>("stored"));
    let unfinished: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM prover_jobs WHERE batch_number = $1 AND (status <> 'done' OR result IS NULL)",
    )
    .bind(batch)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(unfinished, 0, "every job ends done with its one result");
    let provers: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT w.pid) FROM prover_workers w WHERE w.pid <> $1")
            .bind(victim_pid)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(provers, 2);

    // The top proof verifies natively and states the stored batch; the final result is
    // the wrapper proof in the on-chain verifier's encoding (checked natively before it
    // was stored).
    let params = ChunkParams {
        tree,
        chain_id: CHAIN,
    };
    let circuits = CircuitSet::load_or_build(params, MERGE_LEVELS, &cache).unwrap();
    let top_bytes: Vec<u8> = sqlx::query_scalar(
        "SELECT result FROM prover_jobs WHERE batch_number = $1 AND kind = 'top'",
    )
    .bind(batch)
    .fetch_one(&pool)
    .await
    .unwrap();
    let top = ProofWithPublicInputs::from_bytes(top_bytes, &circuits.top.data.common)
        .expect("a top proof");
    circuits.top.data.verify(top.clone()).unwrap();
    let stored = sqlx::query(
        "SELECT old_root, new_root, data, fees, token_fees FROM batches WHERE number = $1",
    )
    .bind(batch)
    .fetch_one(&pool)
    .await
    .unwrap();
    let statement = BatchStatement {
        old_root: Digest::from_bytes(&stored.get::<Vec<u8>, _>("old_root")).unwrap(),
        new_root: Digest::from_bytes(&stored.get::<Vec<u8>, _>("new_root")).unwrap(),
        data_commitment: *DataCommitment::of_calldata(&stored.get::<Vec<u8>, _>("data"))
            .unwrap()
            .as_bytes(),
        fees: [
            stored.get::<i64, _>("fees") as u64,
            stored.get::<i64, _>("token_fees") as u64,
        ],
    };
    assert_eq!(statement_words(&top).unwrap(), statement.public_inputs());
    assert!(proof_bytes.len() > 10_000, "the encoded wrapper proof");

    // The sequencer reports it.
    let batch_json: Value = client
        .get(sequencer.url(&format!("/v1/batches/{batch}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(batch_json["status"], "proven");
    let transfer_json: Value = client
        .get(sequencer.url(&format!("/v1/transfers/{first_hash}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(transfer_json["status"], "proven");

    for worker in &mut workers {
        let _ = worker.kill();
        let _ = worker.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
