//! The whole pipeline on loopback, as `scripts/devnet.sh` runs it: a fresh Postgres
//! database, Anvil as L1 (chain id 31337, EIP-7825 cap on), the real contracts deployed by
//! `rollup deploy` (the generated `Plonky2Verifier`, its gate evaluator, `Rollup`), the
//! `sequencer`, one `prover` process and the `settlement` binary. Signed transfers go in
//! over HTTP; what comes out is checked on L1, in the sequencer's API, in the settlement
//! table and by `restore` from L1 alone, against a ledger the test keeps itself.
//!
//! The circuits are the devnet's (depth 32, 16 partitions, chain id 31337, the default
//! merge levels: the set the committed on-chain verifier was generated for), loaded from
//! the shared cache `target/circuit-cache` (or `$CIRCUIT_CACHE_DIR`), or built there once
//! when it is cold (tens of minutes, ~9 GB). Loading them and proving are the test's time,
//! so one test runs both scenarios on one set-up, and its batches touch few, adjacent
//! partitions (small proof trees): batch 1 spans partitions 0 to 2 (13 proofs), batches 2
//! and 3 stay in partition 0 (8 proofs each). With a warm cache it takes about 5.5 minutes
//! on a shared 2-vCPU VM: 20 s to load the circuits, the rest proving.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy::{
    node_bindings::AnvilInstance,
    primitives::{Address, B256, U256},
    providers::{Provider, RootProvider},
    rpc::types::{Filter, TransactionReceipt},
    sol_types::SolEvent,
};
use integration_tests::{
    forge_build, free_port, repo_root, spawn_anvil, workspace_binary, Service, TestDatabase,
};
use prover::{
    circuits::{aggregation::tree::DEFAULT_MERGE_LEVELS, cache::set_dir},
    solidity::fixture,
};
use rollup_core::{
    account::partition_of_key,
    genesis::{Genesis, GenesisAccount},
    hash::Digest,
    schnorr::SecretKey,
    transfer::{SignedTransfer, Transfer},
};
use sequencer::{
    restore::restore_from_l1,
    settlement::contract::{root_to_l1, IRollup},
};
use serde_json::Value;
use sqlx::{PgPool, Row};

/// Transfers per batch: the sequencer seals a batch exactly when this many are ready (its
/// interval is an hour), so every batch's number and content are known in advance.
const BATCH_SIZE: usize = 6;
const FUNDS: u64 = 1_000_000_000;
const FEE: u64 = 10;
/// The partition of each key: three genesis accounts in partition 0, two each in 1 and 2,
/// and a last key in partition 2 that only receives (batch 1 creates its account).
const LAYOUT: [usize; 8] = [0, 0, 0, 1, 1, 2, 2, 2];
const GENESIS_ACCOUNTS: usize = 7;
/// Anvil's first default account: deploys the contracts and posts batches, as on the devnet.
const OPERATOR_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// A cold circuit cache is built by the prover on its first start.
const CIRCUITS_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// One small batch, sealed to proven, with one worker on a busy 2-vCPU machine.
const PROVING_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const L1_TIMEOUT: Duration = Duration::from_secs(120);

/// The test's own account of what every key must hold, kept without the sequencer.
struct Ledger {
    keys: Vec<SecretKey>,
    balances: Vec<u64>,
    nonces: Vec<u32>,
    fees: u64,
}

impl Ledger {
    /// Signs `amount` from `from` to `to` with the next nonce and books it: the sender pays
    /// amount and fee, the recipient gets the amount.
    fn transfer(&mut self, from: usize, to: usize, amount: u64) -> SignedTransfer {
        let signed = Transfer {
            chain_id: fixture::devnet_params().chain_id,
            from: self.keys[from].public_key(),
            to: self.keys[to].public_key(),
            amount,
            fee: FEE,
            nonce: self.nonces[from],
        }
        .sign(&self.keys[from]);
        self.balances[from] -= amount + FEE;
        self.balances[to] += amount;
        self.nonces[from] += 1;
        self.fees += FEE;
        signed
    }
}

/// Every process of the pipeline. Fields drop in order: the services die before Anvil
/// and the database.
struct Pipeline {
    settlement: Option<Service>,
    sequencer: Service,
    prover: Service,
    anvil: AnvilInstance,
    db: PgPool,
    database: TestDatabase,
    l1: RootProvider,
    rollup: Address,
    operator: Address,
    /// The operator's nonce after the deployment: every later transaction is settlement's.
    deploy_nonce: u64,
    http: reqwest::Client,
    ledger: Ledger,
    dir: PathBuf,
    started: Instant,
}

/// Waits until `check` gives a value, polling every `every`; panics after `timeout`.
async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, every: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(every).await;
    }
}

/// Fresh keys with the partitions of [`LAYOUT`].
fn keys() -> Vec<SecretKey> {
    let tree = fixture::devnet_params().tree;
    LAYOUT
        .iter()
        .map(|&partition| loop {
            let key = SecretKey::random();
            if partition_of_key(&key.public_key(), &tree) == partition {
                break key;
            }
        })
        .collect()
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

impl Pipeline {
    fn log(&self, message: impl std::fmt::Display) {
        log(self.started, message);
    }

    /// Starts everything but settlement. The prover loads (or builds) its circuits while
    /// the chain, the contracts and the sequencer come up.
    async fn start() -> Self {
        let started = Instant::now();
        let dir = std::env::temp_dir().join(format!("e2e-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let database = TestDatabase::create("e2e").await;
        let db = PgPool::connect(&database.url).await.unwrap();

        let params = fixture::devnet_params();
        let keys = keys();
        let accounts = keys[..GENESIS_ACCOUNTS]
            .iter()
            .map(|key| GenesisAccount {
                public_key: key.public_key(),
                balance: FUNDS,
            })
            .collect();
        let genesis = Genesis::new(params.chain_id, params.tree, accounts).unwrap();
        let genesis_path = dir.join("genesis.json");
        genesis.write_new_file(&genesis_path).unwrap();
        let mut balances = vec![FUNDS; GENESIS_ACCOUNTS];
        balances.resize(keys.len(), 0);
        let ledger = Ledger {
            nonces: vec![0; keys.len()],
            keys,
            balances,
            fees: 0,
        };

        let cache = fixture::cache_dir();
        let warm = set_dir(&cache, &params, DEFAULT_MERGE_LEVELS)
            .join("manifest")
            .exists();
        log(
            started,
            format!(
                "prover starting: circuits {} {}",
                if warm {
                    "load from"
                } else {
                    "are not cached yet: building them (once) into"
                },
                cache.display()
            ),
        );
        let prover_address = loopback();
        let prover_args: Vec<String> = vec![
            "--database-url".into(),
            database.url.clone(),
            "--genesis".into(),
            genesis_path.display().to_string(),
            "--cache-dir".into(),
            cache.display().to_string(),
            "--merge-levels".into(),
            DEFAULT_MERGE_LEVELS.to_string(),
            "--workers".into(),
            "1".into(),
            "--metrics-listen".into(),
            prover_address.to_string(),
        ];
        let prover_binary = workspace_binary("prover");
        let prover = Service::start(
            &prover_binary,
            &prover_args,
            prover_address,
            CIRCUITS_TIMEOUT,
        );

        let chain = async {
            forge_build();
            let anvil = spawn_anvil(params.chain_id).expect("anvil starts");
            let output = tokio::process::Command::new(workspace_binary("rollup"))
                .args(["deploy", "--l1", &anvil.endpoint(), "--genesis"])
                .arg(&genesis_path)
                .arg("--artifacts")
                .arg(repo_root().join("contracts/out"))
                .env("ROLLUP_DEPLOY_KEY", OPERATOR_KEY)
                .output()
                .await
                .unwrap();
            assert!(output.status.success(), "rollup deploy: {output:?}");
            let deployed: Value = serde_json::from_slice(&output.stdout).unwrap();
            let rollup: Address = deployed["rollup"].as_str().unwrap().parse().unwrap();
            log(
                started,
                format!(
                    "contracts deployed: Rollup {rollup}, {} gas",
                    deployed["gas"]["total"]
                ),
            );

            let sequencer_address = loopback();
            let args: Vec<String> = [
                "--database-url",
                &database.url,
                "--listen",
                &sequencer_address.to_string(),
                "--genesis",
                genesis_path.to_str().unwrap(),
                "--max-batch-size",
                &BATCH_SIZE.to_string(),
                "--batch-interval-ms",
                "3600000",
            ]
            .map(String::from)
            .to_vec();
            let sequencer = Service::start(
                &workspace_binary("sequencer"),
                &args,
                sequencer_address,
                Duration::from_secs(60),
            )
            .await;
            log(started, format!("sequencer on {sequencer_address}"));
            (anvil, rollup, sequencer)
        };
        let (prover, (anvil, rollup, sequencer)) = tokio::join!(prover, chain);
        log(started, "prover ready (circuits loaded)");

        let l1 = RootProvider::new_http(anvil.endpoint_url());
        let operator = anvil.addresses()[0];
        let deploy_nonce = l1.get_transaction_count(operator).await.unwrap();
        Self {
            settlement: None,
            sequencer,
            prover,
            anvil,
            db,
            database,
            l1,
            rollup,
            operator,
            deploy_nonce,
            http: reqwest::Client::new(),
            ledger,
            dir,
            started,
        }
    }

    fn contract(&self) -> IRollup::IRollupInstance<RootProvider> {
        IRollup::new(self.rollup, self.l1.clone())
    }

    async fn last_verified_batch(&self) -> u64 {
        self.contract().lastVerifiedBatch().call().await.unwrap()
    }

    /// Starts the `settlement` binary with its real flags (confirmations: the default 1,
    /// i.e. a receipt on auto-mining Anvil is final).
    async fn start_settlement(&mut self) {
        assert!(self.settlement.is_none());
        let address = loopback();
        // The key on the command line is Anvil's public test key, nothing to hide.
        let args: Vec<String> = [
            "--database-url",
            &self.database.url,
            "--l1",
            &self.anvil.endpoint(),
            "--rollup",
            &self.rollup.to_string(),
            "--operator-key",
            OPERATOR_KEY,
            "--listen",
            &address.to_string(),
            "--poll-ms",
            "100",
        ]
        .map(String::from)
        .to_vec();
        self.settlement = Some(
            Service::start(
                &workspace_binary("settlement"),
                &args,
                address,
                Duration::from_secs(30),
            )
            .await,
        );
        self.log(format!("settlement started on {address}"));
    }

    /// SIGKILL, as a crash.
    fn kill_settlement(&mut self) {
        self.settlement
            .take()
            .expect("settlement is running")
            .kill();
    }

    /// Panics if a service died (a fatal error would otherwise look like a slow pipeline).
    fn assert_alive(&mut self) {
        let services = [
            ("sequencer", Some(&mut self.sequencer)),
            ("prover", Some(&mut self.prover)),
            ("settlement", self.settlement.as_mut()),
        ];
        for (name, service) in services {
            if let Some(status) = service.and_then(Service::exit_status) {
                panic!("the {name} exited: {status}");
            }
        }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(self.sequencer.url(path))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "GET {path}: {response:?}");
        response.json().await.unwrap()
    }

    /// Signs and submits one batch of transfers `(from, to, amount)` in one request, waits
    /// until it is sealed, and checks every transfer executed in it; returns its number.
    async fn submit_batch(&mut self, transfers: &[(usize, usize, u64)]) -> u64 {
        assert_eq!(transfers.len(), BATCH_SIZE);
        let batch = self.sealed_batches().await + 1;
        let signed: Vec<SignedTransfer> = transfers
            .iter()
            .map(|&(from, to, amount)| self.ledger.transfer(from, to, amount))
            .collect();
        let response: Value = self
            .http
            .post(self.sequencer.url("/v1/transfers"))
            .json(&signed)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(response["accepted"], BATCH_SIZE, "{response}");
        let hashes: Vec<String> = signed.iter().map(|t| t.hash().to_string()).collect();
        for (result, hash) in response["results"].as_array().unwrap().iter().zip(&hashes) {
            assert_eq!(result["hash"].as_str(), Some(hash.as_str()), "{response}");
        }
        wait_until(
            &format!("batch {batch} to be sealed"),
            Duration::from_secs(30),
            Duration::from_millis(50),
            || async { (self.sealed_batches().await == batch).then_some(()) },
        )
        .await;
        let mut positions = Vec::new();
        for hash in &hashes {
            let status = self.get(&format!("/v1/transfers/{hash}")).await;
            assert_eq!(status["status"], "executed", "{status}");
            assert_eq!(status["batch"], batch, "{status}");
            positions.push(status["position"].as_u64().unwrap());
        }
        positions.sort_unstable();
        assert_eq!(positions, (0..BATCH_SIZE as u64).collect::<Vec<_>>());
        self.log(format!(
            "batch {batch} sealed: {BATCH_SIZE} transfers submitted and executed"
        ));
        batch
    }

    async fn sealed_batches(&self) -> u64 {
        let latest: Option<i64> = sqlx::query_scalar("SELECT max(number) FROM batches")
            .fetch_one(&self.db)
            .await
            .unwrap();
        latest.map_or(0, |n| n as u64)
    }

    /// Waits until the sequencer reports `batch` proven, logging the jobs as they finish.
    async fn wait_proven(&mut self, batch: u64) {
        let sealed = Instant::now();
        let deadline = sealed + PROVING_TIMEOUT;
        let mut last = String::new();
        loop {
            self.assert_alive();
            let progress: String = sqlx::query_scalar(
                "SELECT coalesce(string_agg(kind || ' ' || done || '/' || total, ', ' ORDER BY first), '')
                 FROM (SELECT kind, min(id) AS first, count(*) FILTER (WHERE status = 'done') AS done,
                              count(*) AS total
                       FROM prover_jobs WHERE batch_number = $1 GROUP BY kind) jobs",
            )
            .bind(batch as i64)
            .fetch_one(&self.db)
            .await
            .unwrap();
            if progress != last {
                self.log(format!("batch {batch} proving: {progress}"));
                last = progress;
            }
            if self.get(&format!("/v1/batches/{batch}")).await["status"] == "proven" {
                self.log(format!(
                    "batch {batch} proven in {:.0}s",
                    sealed.elapsed().as_secs_f64()
                ));
                return;
            }
            assert!(
                Instant::now() < deadline,
                "batch {batch} not proven in {PROVING_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits until L1 verified `batch` and settlement recorded its transaction confirmed.
    async fn wait_settled(&mut self, batch: u64) -> L1Row {
        let deadline = Instant::now() + L1_TIMEOUT;
        loop {
            self.assert_alive();
            let rows = self.l1_rows(Some(batch)).await;
            if self.last_verified_batch().await >= batch {
                if let Some(row) = rows.iter().find(|r| r.status == "confirmed") {
                    self.log(format!(
                        "batch {batch} verified on L1: tx {}, {} gas, block {}",
                        row.hash, row.gas_used, row.block
                    ));
                    return row.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "batch {batch} not settled in {L1_TIMEOUT:?}: {rows:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The settlement table's rows (of one batch, or all), oldest first.
    async fn l1_rows(&self, batch: Option<u64>) -> Vec<L1Row> {
        sqlx::query(
            "SELECT batch_number, tx_hash, status, coalesce(gas_used, 0) AS gas_used,
                    coalesce(block_number, 0) AS block_number
             FROM l1_transactions WHERE $1::bigint IS NULL OR batch_number = $1 ORDER BY id",
        )
        .bind(batch.map(|b| b as i64))
        .fetch_all(&self.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| L1Row {
            batch: row.get::<i64, _>("batch_number") as u64,
            hash: B256::from_slice(&row.get::<Vec<u8>, _>("tx_hash")),
            status: row.get("status"),
            gas_used: row.get::<i64, _>("gas_used") as u64,
            block: row.get::<i64, _>("block_number") as u64,
        })
        .collect()
    }

    async fn receipt(&self, hash: B256) -> Option<TransactionReceipt> {
        self.l1.get_transaction_receipt(hash).await.unwrap()
    }

    /// Every `BatchVerified` event of the Rollup, in chain order.
    async fn verified_events(&self) -> Vec<IRollup::BatchVerified> {
        let filter = Filter::new()
            .address(self.rollup)
            .event_signature(IRollup::BatchVerified::SIGNATURE_HASH)
            .from_block(0);
        self.l1
            .get_logs(&filter)
            .await
            .unwrap()
            .iter()
            .map(|log| {
                log.log_decode::<IRollup::BatchVerified>()
                    .unwrap()
                    .inner
                    .data
            })
            .collect()
    }

    /// Checks that the sealed batch `batch` is what L1 holds, that the sequencer serves the
    /// ledger's balances and nonces, that the recorded transaction is the one on L1, and
    /// that the state rebuilt from L1 alone has the same root.
    async fn check_settled(&self, batch: u64, row: &L1Row) {
        let sealed = self.get("/v1/batches/latest").await;
        assert_eq!(sealed["number"], batch, "{sealed}");
        assert_eq!(sealed["status"], "proven", "{sealed}");
        let root: Digest = sealed["new_root"].as_str().unwrap().parse().unwrap();
        let old_root: Digest = sealed["old_root"].as_str().unwrap().parse().unwrap();
        let fees: u64 = sealed["fees"].as_str().unwrap().parse().unwrap();
        assert_eq!(fees, BATCH_SIZE as u64 * FEE);

        let contract = self.contract();
        assert_eq!(self.last_verified_batch().await, batch);
        let l1_root = contract.stateRoot().call().await.unwrap();
        assert_eq!(l1_root, root_to_l1(&root), "L1's root is the sealed root");

        for (i, key) in self.ledger.keys.iter().enumerate() {
            let account = self
                .get(&format!("/v1/accounts/{}", key.public_key()))
                .await;
            let expected = self.ledger.balances[i].to_string();
            assert_eq!(
                account["balance"],
                expected.as_str(),
                "account {i}: {account}"
            );
            assert_eq!(
                account["nonce"], self.ledger.nonces[i],
                "account {i}: {account}"
            );
            assert_eq!(account["pending_balance"], expected.as_str(), "{account}");
            assert_eq!(account["pending_nonce"], self.ledger.nonces[i], "{account}");
            assert_eq!(account["partition"], LAYOUT[i], "{account}");
        }

        // The recorded transaction is the one L1 mined, with the gas L1 charged, and it
        // verified exactly this batch.
        assert_eq!(row.batch, batch);
        let receipt = self
            .receipt(row.hash)
            .await
            .expect("the recorded tx's receipt");
        assert!(receipt.status(), "the batch transaction succeeded");
        assert_eq!(receipt.gas_used, row.gas_used);
        assert_eq!(receipt.block_number, Some(row.block));
        assert_eq!(receipt.from, self.operator);
        assert_eq!(receipt.to, Some(self.rollup));
        let event = receipt
            .inner
            .logs()
            .iter()
            .find_map(|log| log.log_decode::<IRollup::BatchVerified>().ok())
            .expect("a BatchVerified event")
            .inner
            .data;
        assert_eq!(event.number, batch);
        assert_eq!(event.oldRoot, root_to_l1(&old_root));
        assert_eq!(event.newRoot, root_to_l1(&root));
        assert_eq!(event.fees, fees);

        let restored = restore_from_l1(&self.anvil.endpoint(), self.rollup)
            .await
            .unwrap();
        assert_eq!(
            restored.state_root, root,
            "restore rebuilds the sealed root"
        );
        assert_eq!(restored.l1_state_root, l1_root);
        assert_eq!(restored.last_batch, batch);
        assert_eq!(restored.accounts, self.ledger.keys.len() as u64);
        self.log(format!(
            "batch {batch}: L1 root = sealed root = restored root, {} accounts as the ledger says",
            self.ledger.keys.len()
        ));
    }

    async fn operator_nonce(&self) -> u64 {
        self.l1.get_transaction_count(self.operator).await.unwrap()
    }

    async fn anvil_call(&self, method: &'static str, params: Value) -> Value {
        self.l1.raw_request(method.into(), params).await.unwrap()
    }
}

/// A row of `l1_transactions`.
#[derive(Clone, Debug)]
struct L1Row {
    batch: u64,
    hash: B256,
    status: String,
    gas_used: u64,
    block: u64,
}

fn log(started: Instant, message: impl std::fmt::Display) {
    eprintln!("[e2e {:7.1}s] {message}", started.elapsed().as_secs_f64());
}

/// Batch 1, with settlement running: transfers inside and across partitions 0, 1 and 2,
/// two from one sender, one to a key without an account, reach L1 through a proof the real
/// verifier accepts.
async fn transfers_flow_to_a_proof_verified_on_l1(pipeline: &mut Pipeline) {
    pipeline.start_settlement().await;
    let batch = pipeline
        .submit_batch(&[
            (0, 3, 1_000), // partition 0 -> 1
            (3, 5, 2_000), // 1 -> 2
            (5, 0, 3_000), // 2 -> 0
            (1, 2, 4_000), // inside partition 0
            (4, 7, 5_000), // 1 -> 2, creates account 7
            (0, 6, 6_000), // 0 -> 2, the sender's second transfer (nonce 1)
        ])
        .await;
    assert_eq!(batch, 1);
    pipeline.wait_proven(batch).await;
    let row = pipeline.wait_settled(batch).await;
    pipeline.check_settled(batch, &row).await;

    let rows = pipeline.l1_rows(Some(batch)).await;
    assert_eq!(rows.len(), 1, "one transaction posted batch 1: {rows:?}");
    let contract = pipeline.contract();
    assert_eq!(
        contract
            .pendingBalance(pipeline.operator)
            .call()
            .await
            .unwrap(),
        U256::from(pipeline.ledger.fees),
        "the batch's fees are credited to the operator on L1"
    );
}

/// Batch 2 is proven while settlement is down; settlement then starts, signs, records and
/// broadcasts its transaction, and is SIGKILLed before it can see a receipt (Anvil's
/// auto-mining is off, so there is none to see); the transaction is mined while it is
/// dead. The restarted module must adopt that transaction, not post the batch again (the
/// design's promise: no second transaction while one may land, so no reverted duplicate
/// either), and batch 3, submitted afterwards, must follow it to L1.
async fn settlement_killed_mid_flight_loses_nothing_and_posts_once(pipeline: &mut Pipeline) {
    pipeline.kill_settlement();
    pipeline.log("settlement stopped");
    let batch = pipeline
        .submit_batch(&[
            (0, 1, 100),
            (1, 2, 200),
            (2, 0, 300),
            (0, 2, 400),
            (1, 0, 500),
            (2, 1, 600),
        ])
        .await;
    assert_eq!(batch, 2);
    pipeline.wait_proven(batch).await;
    assert_eq!(pipeline.last_verified_batch().await, 1);
    assert!(pipeline.l1_rows(Some(batch)).await.is_empty());

    pipeline
        .anvil_call("evm_setAutomine", serde_json::json!([false]))
        .await;
    let nonce_before = pipeline.operator_nonce().await;
    pipeline.start_settlement().await;
    let written = wait_until(
        "settlement's write-ahead row for batch 2",
        L1_TIMEOUT,
        Duration::from_millis(5),
        || async { pipeline.l1_rows(Some(batch)).await.into_iter().next() },
    )
    .await;
    let row_seen = Instant::now();
    wait_until(
        "the batch transaction in Anvil's pool",
        Duration::from_secs(10),
        Duration::from_millis(5),
        || async {
            pipeline
                .l1
                .get_transaction_by_hash(written.hash)
                .await
                .unwrap()
        },
    )
    .await;
    pipeline.kill_settlement();
    pipeline.log(format!(
        "settlement SIGKILLed {:.0} ms after its row for batch 2 appeared (tx {} broadcast, unmined)",
        row_seen.elapsed().as_secs_f64() * 1e3,
        written.hash
    ));
    let rows = pipeline.l1_rows(Some(batch)).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, "sent", "no receipt was recorded: {rows:?}");
    assert!(pipeline.receipt(written.hash).await.is_none());

    // L1 mines it while the module is dead: verified on L1, unknown to the database.
    pipeline.anvil_call("evm_mine", serde_json::json!([])).await;
    let mined = pipeline
        .receipt(written.hash)
        .await
        .expect("mined while settlement is dead");
    assert!(mined.status());
    assert_eq!(pipeline.last_verified_batch().await, batch);
    assert_eq!(pipeline.l1_rows(Some(batch)).await[0].status, "sent");
    pipeline
        .anvil_call("evm_setAutomine", serde_json::json!([true]))
        .await;

    pipeline.start_settlement().await;
    let row = pipeline.wait_settled(batch).await;
    assert_eq!(
        row.hash, written.hash,
        "the recorded transaction was adopted"
    );
    pipeline.check_settled(batch, &row).await;
    let rows = pipeline.l1_rows(Some(batch)).await;
    assert_eq!(rows.len(), 1, "no second transaction for batch 2: {rows:?}");
    assert_eq!(
        pipeline.operator_nonce().await,
        nonce_before + 1,
        "the operator sent exactly one transaction for batch 2 (none reverted)"
    );
    let verified: Vec<u64> = pipeline
        .verified_events()
        .await
        .iter()
        .map(|e| e.number)
        .collect();
    assert_eq!(verified, [1, 2], "batch 2 verified on L1 exactly once");

    // Nothing is lost and the order is kept: a batch submitted after the restart follows.
    let batch = pipeline
        .submit_batch(&[
            (2, 1, 7),
            (1, 0, 8),
            (0, 2, 9),
            (2, 0, 10),
            (0, 1, 11),
            (1, 2, 12),
        ])
        .await;
    assert_eq!(batch, 3);
    pipeline.wait_proven(batch).await;
    let row = pipeline.wait_settled(batch).await;
    pipeline.check_settled(batch, &row).await;

    let verified: Vec<u64> = pipeline
        .verified_events()
        .await
        .iter()
        .map(|e| e.number)
        .collect();
    assert_eq!(verified, [1, 2, 3], "each batch verified once, in order");
    let rows: Vec<(u64, String)> = pipeline
        .l1_rows(None)
        .await
        .into_iter()
        .map(|r| (r.batch, r.status))
        .collect();
    assert_eq!(
        rows,
        [1, 2, 3].map(|b| (b, "confirmed".to_owned())),
        "one confirmed transaction per batch, nothing else recorded"
    );
    assert_eq!(
        pipeline.operator_nonce().await,
        pipeline.deploy_nonce + 3,
        "three batches, three transactions: nothing reverted, replaced or posted twice"
    );
    assert_eq!(
        pipeline
            .contract()
            .pendingBalance(pipeline.operator)
            .call()
            .await
            .unwrap(),
        U256::from(pipeline.ledger.fees)
    );
}

/// Both scenarios on one pipeline, so that the circuits are loaded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_settles_proven_batches_on_l1_and_survives_a_settlement_kill() {
    let mut pipeline = Pipeline::start().await;
    pipeline.log("pipeline up: scenario 1, transfers_flow_to_a_proof_verified_on_l1");
    transfers_flow_to_a_proof_verified_on_l1(&mut pipeline).await;
    pipeline.log("scenario 2, settlement_killed_mid_flight_loses_nothing_and_posts_once");
    settlement_killed_mid_flight_loses_nothing_and_posts_once(&mut pipeline).await;
    pipeline.log("done");
    let dir: &Path = &pipeline.dir;
    let _ = std::fs::remove_dir_all(dir);
}
