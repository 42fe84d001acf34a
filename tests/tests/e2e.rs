//! The whole pipeline on loopback, as `scripts/devnet.sh` runs it: a fresh Postgres
//! database, Anvil as L1 (chain id 31337, EIP-7825 cap on), the real contracts deployed by
//! `rollup deploy` (the generated `Plonky2Verifier`, its gate evaluator, `Rollup`, the test
//! token), the `sequencer`, one `prover` process and the `settlement` binary (with its
//! deposit watcher). Signed transfers and withdrawals go in over HTTP, deposits and claims
//! through L1 from Anvil's dev accounts; what comes out is checked on L1, in the
//! sequencer's API, in the settlement and deposit tables and by `restore` from L1 alone,
//! against a ledger (both tokens) the test keeps itself.
//!
//! The circuits are the devnet's (depth 32, 16 partitions, chain id 31337, the default
//! merge levels: the set the committed on-chain verifier was generated for), loaded from
//! the shared cache `target/circuit-cache` (or `$CIRCUIT_CACHE_DIR`), or built there once
//! when it is cold (tens of minutes, ~9 GB). Loading them and proving are the test's time,
//! so one test runs its three scenarios on one set-up, and its batches touch few, adjacent
//! partitions (small proof trees): batch 1 spans partitions 0 to 2 (13 proofs), batches 2
//! and 3 stay in partition 0 (8 proofs each), the bridge's batches 4 and 5 span partitions
//! 0 and 1. With a warm cache it takes about TIMING minutes on a shared 2-vCPU VM: 20 s to
//! load the circuits, the rest proving.

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
    signers::local::PrivateKeySigner,
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
    token::{Token, L1_UNITS_PER_L2_UNIT, TOKENS},
    transaction::SignedTransaction,
    transfer::Transfer,
    withdrawal::L1Address,
};
use sequencer::{
    bridge::{self, ITestToken},
    restore::restore_from_l1,
    settlement::contract::{root_to_l1, IRollup},
    wallet::sign_withdrawal,
};
use serde_json::{json, Value};
use sqlx::{PgPool, Row};

alloy::sol! {
    /// The Rollup's refusal of a claim with nothing pending (`contracts/src/Rollup.sol`);
    /// `IRollup` declares only the errors the services decode.
    error NothingToClaim();
}

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
    /// Each key's partition.
    partitions: Vec<usize>,
    /// Each key's balance of every token, by token number.
    balances: Vec<[u64; TOKENS]>,
    nonces: Vec<u32>,
    /// Every fee paid so far, per token: what L1 credits the operator.
    fees: [u64; TOKENS],
    /// What the next sealed batch must hold, booked since the last one was sealed.
    next_batch: ExpectedBatch,
}

/// What a sealed batch must show besides the balances: its fee totals, the L1 deposits it
/// credits and the withdrawals L1 credits once it is verified.
#[derive(Clone, Debug, Default)]
struct ExpectedBatch {
    fees: [u64; TOKENS],
    deposits: u64,
    withdrawals: Vec<Credit>,
}

/// One `WithdrawalCredited` event's content: `amount` L2 units of `token` to `recipient`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Credit {
    token: u8,
    recipient: Address,
    amount: u64,
}

/// One signed operation of a batch, by key index.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `amount` of `token` from key `from` to key `to`.
    Transfer {
        token: Token,
        from: usize,
        to: usize,
        amount: u64,
    },
    /// `amount` of `token` from key `from` to the L1 address `to`.
    Withdraw {
        token: Token,
        from: usize,
        to: Address,
        amount: u64,
    },
}

impl Ledger {
    /// The genesis accounts (the first `funded` keys, [`FUNDS`] of ETH each) and keys that
    /// have no account yet.
    fn new(keys: Vec<SecretKey>, funded: usize) -> Self {
        let mut ledger = Self {
            keys: Vec::new(),
            partitions: Vec::new(),
            balances: Vec::new(),
            nonces: Vec::new(),
            fees: [0; TOKENS],
            next_batch: ExpectedBatch::default(),
        };
        for key in keys {
            ledger.add_key(key);
        }
        for balances in &mut ledger.balances[..funded] {
            balances[Token::Eth.index()] = FUNDS;
        }
        ledger
    }

    /// Adds a key without an account (a deposit or transfer creates it); returns its index.
    fn add_key(&mut self, key: SecretKey) -> usize {
        let tree = fixture::devnet_params().tree;
        self.partitions
            .push(partition_of_key(&key.public_key(), &tree));
        self.keys.push(key);
        self.balances.push([0; TOKENS]);
        self.nonces.push(0);
        self.keys.len() - 1
    }

    /// Books an L1 deposit, which the next sealed batch credits.
    fn deposit(&mut self, token: Token, to: usize, amount: u64) {
        self.balances[to][token.index()] += amount;
        self.next_batch.deposits += 1;
    }

    /// Signs `op` with the sender's next nonce and books it: the sender pays amount and
    /// fee in the operation's token, an L2 recipient gets the amount, an L1 one a credit
    /// once the batch is verified.
    fn sign(&mut self, op: Op) -> SignedTransaction {
        let chain_id = fixture::devnet_params().chain_id;
        match op {
            Op::Transfer {
                token,
                from,
                to,
                amount,
            } => {
                let nonce = self.pay(token, from, amount);
                self.balances[to][token.index()] += amount;
                let key = &self.keys[from];
                Transfer {
                    token,
                    chain_id,
                    from: key.public_key(),
                    to: self.keys[to].public_key(),
                    amount,
                    fee: FEE,
                    nonce,
                }
                .sign(key)
                .into()
            }
            Op::Withdraw {
                token,
                from,
                to,
                amount,
            } => {
                let nonce = self.pay(token, from, amount);
                self.next_batch.withdrawals.push(Credit {
                    token: token.into(),
                    recipient: to,
                    amount,
                });
                let recipient = L1Address(to.into_array());
                sign_withdrawal(
                    &self.keys[from],
                    chain_id,
                    recipient,
                    token,
                    amount,
                    FEE,
                    nonce,
                )
                .expect("a packable withdrawal")
                .into()
            }
        }
    }

    /// Debits `amount` and the fee from `from` and takes its next nonce, which it returns.
    fn pay(&mut self, token: Token, from: usize, amount: u64) -> u32 {
        self.balances[from][token.index()] -= amount + FEE;
        self.fees[token.index()] += FEE;
        self.next_batch.fees[token.index()] += FEE;
        self.nonces[from] += 1;
        self.nonces[from] - 1
    }

    /// Every L2 balance of `token` together.
    fn total(&self, token: Token) -> u64 {
        self.balances.iter().map(|b| b[token.index()]).sum()
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
    /// What each sealed batch must show, batch `n` at index `n - 1`.
    expected: Vec<ExpectedBatch>,
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

/// A fresh key whose account lives in `partition`.
fn key_in(partition: usize) -> SecretKey {
    let tree = fixture::devnet_params().tree;
    loop {
        let key = SecretKey::random();
        if partition_of_key(&key.public_key(), &tree) == partition {
            return key;
        }
    }
}

/// Fresh keys with the partitions of [`LAYOUT`].
fn keys() -> Vec<SecretKey> {
    LAYOUT.iter().map(|&partition| key_in(partition)).collect()
}

/// An L2 amount in the token's smallest L1 unit (wei for ETH).
fn l1_units(amount: u64) -> U256 {
    U256::from(amount) * U256::from(L1_UNITS_PER_L2_UNIT)
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
        let ledger = Ledger::new(keys, GENESIS_ACCOUNTS);

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
            expected: Vec::new(),
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

    /// Signs and submits one batch of ETH transfers `(from, to, amount)` ([`Self::submit_ops`]).
    async fn submit_batch(&mut self, transfers: &[(usize, usize, u64)]) -> u64 {
        let ops: Vec<Op> = transfers
            .iter()
            .map(|&(from, to, amount)| Op::Transfer {
                token: Token::Eth,
                from,
                to,
                amount,
            })
            .collect();
        self.submit_ops(&ops).await
    }

    /// Signs and submits one batch of operations in order (each run of one kind in one
    /// request: transfers and withdrawals have routes of their own), waits until it is
    /// sealed, and checks every operation executed in it; returns its number. What the
    /// ledger booked since the last batch (these operations, and deposits) becomes the
    /// batch's expectation.
    async fn submit_ops(&mut self, ops: &[Op]) -> u64 {
        assert_eq!(ops.len(), BATCH_SIZE);
        let batch = self.sealed_batches().await + 1;
        let signed: Vec<SignedTransaction> = ops.iter().map(|&op| self.ledger.sign(op)).collect();
        let hashes: Vec<String> = signed.iter().map(|t| t.hash().to_string()).collect();
        let runs = signed.chunk_by(|a, b| std::mem::discriminant(a) == std::mem::discriminant(b));
        let mut offset = 0;
        for run in runs {
            let path = match run[0] {
                SignedTransaction::Transfer(_) => "/v1/transfers",
                SignedTransaction::Withdrawal(_) => "/v1/withdrawals",
            };
            let body: Vec<Value> = run
                .iter()
                .map(|op| match op {
                    SignedTransaction::Transfer(t) => serde_json::to_value(t).unwrap(),
                    SignedTransaction::Withdrawal(w) => serde_json::to_value(w).unwrap(),
                })
                .collect();
            let response: Value = self
                .http
                .post(self.sequencer.url(path))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(response["accepted"], run.len(), "{response}");
            let results = response["results"].as_array().unwrap();
            for (result, hash) in results.iter().zip(&hashes[offset..]) {
                assert_eq!(result["hash"].as_str(), Some(hash.as_str()), "{response}");
            }
            offset += run.len();
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
        assert_eq!(self.expected.len() as u64 + 1, batch);
        self.expected
            .push(std::mem::take(&mut self.ledger.next_batch));
        self.log(format!(
            "batch {batch} sealed: {BATCH_SIZE} operations submitted and executed"
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
            // Settlement may verify it on L1 before this poll sees it merely proven.
            let status = self.get(&format!("/v1/batches/{batch}")).await["status"].clone();
            if status == "proven" || status == "verified" {
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

    /// Checks that the sealed batch `batch` is what L1 holds (root, fees per token, deposits
    /// consumed, withdrawals credited: the ledger's expectation), that the sequencer serves
    /// the ledger's balances and nonces, that the recorded transaction is the one on L1, and
    /// that the state rebuilt from L1 alone has the same root.
    async fn check_settled(&self, batch: u64, row: &L1Row) {
        let expected = &self.expected[batch as usize - 1];
        let sealed = self.get("/v1/batches/latest").await;
        assert_eq!(sealed["number"], batch, "{sealed}");
        assert_eq!(sealed["status"], "verified", "{sealed}");
        assert_eq!(sealed["l1_tx_hash"], row.hash.to_string(), "{sealed}");
        assert_eq!(sealed["size"], BATCH_SIZE, "{sealed}");
        let root: Digest = sealed["new_root"].as_str().unwrap().parse().unwrap();
        let old_root: Digest = sealed["old_root"].as_str().unwrap().parse().unwrap();
        let fees = ["fees", "token_fees"].map(|field| sealed[field].as_str().unwrap());
        assert_eq!(fees, expected.fees.map(|f| f.to_string()), "{sealed}");
        let deposit_count: i32 =
            sqlx::query_scalar("SELECT deposit_count FROM batches WHERE number = $1")
                .bind(batch as i64)
                .fetch_one(&self.db)
                .await
                .unwrap();
        assert_eq!(deposit_count as u64, expected.deposits, "batch {batch}");

        let contract = self.contract();
        assert_eq!(self.last_verified_batch().await, batch);
        let l1_root = contract.stateRoot().call().await.unwrap();
        assert_eq!(l1_root, root_to_l1(&root), "L1's root is the sealed root");

        for i in 0..self.ledger.keys.len() {
            self.check_account(i).await;
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
        assert_eq!([event.ethFees, event.tokenFees], expected.fees);
        assert_eq!(event.depositsConsumed, expected.deposits);
        let mut credits: Vec<Credit> = receipt
            .inner
            .logs()
            .iter()
            .filter_map(|log| log.log_decode::<IRollup::WithdrawalCredited>().ok())
            .map(|log| {
                let event = log.inner.data;
                assert_eq!(event.batch, batch);
                Credit {
                    token: event.token,
                    recipient: event.recipient,
                    amount: event.amount,
                }
            })
            .collect();
        credits.sort_unstable();
        let mut withdrawals = expected.withdrawals.clone();
        withdrawals.sort_unstable();
        assert_eq!(credits, withdrawals, "batch {batch}'s withdrawal credits");

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
            "batch {batch}: L1 root = sealed root = restored root, {} accounts as the ledger \
             says, fees {:?}, {} deposits, {} withdrawals",
            self.ledger.keys.len(),
            expected.fees,
            expected.deposits,
            expected.withdrawals.len()
        ));
    }

    /// Checks that the sequencer serves account `i` as the ledger has it: both tokens'
    /// balances, nonce and partition, executed and pending alike (nothing is in flight
    /// when this is called).
    async fn check_account(&self, i: usize) {
        let key = self.ledger.keys[i].public_key();
        let account = self.get(&format!("/v1/accounts/{key}")).await;
        let balances = self.ledger.balances[i].map(|b| b.to_string());
        let nonce = self.ledger.nonces[i];
        assert_eq!(
            account["balances"],
            json!(balances),
            "account {i}: {account}"
        );
        assert_eq!(account["balance"], balances[0], "account {i}: {account}");
        assert_eq!(account["nonce"], nonce, "account {i}: {account}");
        assert_eq!(account["pending_balances"], json!(balances), "{account}");
        assert_eq!(account["pending_balance"], balances[0], "{account}");
        assert_eq!(account["pending_nonce"], nonce, "{account}");
        assert_eq!(account["partition"], self.ledger.partitions[i], "{account}");
    }

    /// A wallet of Anvil's funded dev account `index` (0 is the operator's).
    fn l1_wallet(&self, index: usize) -> PrivateKeySigner {
        PrivateKeySigner::from(&self.anvil.keys()[index])
    }

    /// What `account` holds of `token` on L1, in the token's smallest unit.
    async fn l1_holding(&self, token: Token, account: Address) -> U256 {
        match token {
            Token::Eth => self.l1.get_balance(account).await.unwrap(),
            Token::TestToken => {
                let address = self.contract().testToken().call().await.unwrap();
                ITestToken::new(address, self.l1.clone())
                    .balanceOf(account)
                    .call()
                    .await
                    .unwrap()
            }
        }
    }

    /// The deposit watcher's rows, in queue order.
    async fn deposit_rows(&self) -> Vec<DepositRow> {
        sqlx::query(
            "SELECT queue_index, token, public_key, amount, l1_tx_hash, batch_number
             FROM deposits ORDER BY queue_index",
        )
        .fetch_all(&self.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| DepositRow {
            index: row.get::<i64, _>("queue_index") as u64,
            token: row.get::<i16, _>("token") as u8,
            key: row.get("public_key"),
            amount: row.get::<i64, _>("amount") as u64,
            tx_hash: B256::from_slice(&row.get::<Vec<u8>, _>("l1_tx_hash")),
            batch: row.get::<Option<i64>, _>("batch_number").map(|b| b as u64),
        })
        .collect()
    }

    /// Claims `credit` on L1 with the wallet of its recipient, as a user would
    /// (`bridge::claim`), and checks the payout: the pending balance goes to zero and the
    /// recipient's holding rises by the amount (less the claim's gas for ETH). A second
    /// claim is refused: L1 reverts it with `NothingToClaim` and sends nothing.
    async fn claim(&self, wallet: &PrivateKeySigner, credit: Credit) {
        let token = Token::try_from(credit.token).unwrap();
        let recipient = wallet.address();
        assert_eq!(recipient, credit.recipient);
        let amount = l1_units(credit.amount);
        let l1_url = self.anvil.endpoint();
        let pending = || bridge::pending_balance(&l1_url, self.rollup, recipient, token);
        assert_eq!(pending().await.unwrap(), amount, "{credit:?} pending");
        let before = self.l1_holding(token, recipient).await;
        let claimed = bridge::claim(&l1_url, self.rollup, wallet, token)
            .await
            .unwrap();
        assert_eq!(claimed.amount, amount);
        let receipt = self
            .receipt(claimed.tx_hash)
            .await
            .expect("a claim receipt");
        assert_eq!(receipt.from, recipient);
        assert_eq!(receipt.gas_used, claimed.gas_used);
        let gas_cost = match token {
            Token::Eth => U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price),
            Token::TestToken => U256::ZERO,
        };
        assert_eq!(
            self.l1_holding(token, recipient).await,
            before + amount - gas_cost,
            "{credit:?} paid out"
        );
        assert_eq!(pending().await.unwrap(), U256::ZERO);
        self.log(format!(
            "claimed on L1: {amount} of token {token} to {recipient}, {} gas",
            claimed.gas_used
        ));

        let nonce = self.l1.get_transaction_count(recipient).await.unwrap();
        let again = bridge::claim(&l1_url, self.rollup, wallet, token).await;
        let error = again.expect_err("a second claim is refused").to_string();
        assert!(error.contains("revert"), "second claim: {error}");
        let refusal = self
            .contract()
            .claim(token.into())
            .from(recipient)
            .call()
            .await
            .expect_err("a second claim reverts");
        assert!(
            refusal.as_decoded_error::<NothingToClaim>().is_some(),
            "second claim: {refusal}"
        );
        assert_eq!(
            self.l1.get_transaction_count(recipient).await.unwrap(),
            nonce,
            "the refused claim sent no transaction"
        );
    }

    /// Checks that the Rollup escrows exactly what L2 and the pending balances owe, per
    /// token: every L2 balance and every fee (the operator's, unclaimed), once all
    /// withdrawals are claimed.
    async fn check_escrow(&self) {
        for token in Token::ALL {
            let owed = self.ledger.total(token) + self.ledger.fees[token.index()];
            assert_eq!(
                self.l1_holding(token, self.rollup).await,
                l1_units(owed),
                "the Rollup's {token} escrow"
            );
            assert_eq!(
                self.contract()
                    .pendingBalance(token.into(), self.operator)
                    .call()
                    .await
                    .unwrap(),
                l1_units(self.ledger.fees[token.index()]),
                "the operator's {token} fees"
            );
        }
    }

    async fn operator_nonce(&self) -> u64 {
        self.l1.get_transaction_count(self.operator).await.unwrap()
    }

    async fn anvil_call(&self, method: &'static str, params: Value) -> Value {
        self.l1.raw_request(method.into(), params).await.unwrap()
    }
}

/// A row of `deposits`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DepositRow {
    index: u64,
    token: u8,
    key: Vec<u8>,
    amount: u64,
    tx_hash: B256,
    batch: Option<u64>,
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
            .pendingBalance(0, pipeline.operator)
            .call()
            .await
            .unwrap(),
        l1_units(pipeline.ledger.fees[0]),
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
            .pendingBalance(0, pipeline.operator)
            .call()
            .await
            .unwrap(),
        l1_units(pipeline.ledger.fees[0])
    );
}

/// Batches 4 and 5, the devnet demo's bridge round trip, with settlement (and so its
/// deposit watcher) running. On L1, two of Anvil's dev accounts (not the operator) deposit
/// ETH to a new key in partition 0 (the deposit creates its account) and freshly minted
/// test tokens to a genesis account in partition 1; the watcher copies both confirmed
/// events into `deposits`, and batch 4 (sealed by six ETH transfers: a batch is sealed
/// when enough operations are ready, and the interval is an hour) credits them first.
/// Batch 5 moves test tokens across partitions and withdraws ETH from the deposit-made
/// account and test tokens from the holder, to two more dev accounts, which claim the
/// payouts on L1 once the batch is verified. L1 and the sequencer must agree with the
/// ledger throughout, and restore (in `check_settled`) replays deposits and withdrawals.
async fn deposits_and_withdrawals_cross_the_bridge(pipeline: &mut Pipeline) {
    const ETH_DEPOSIT: u64 = 50_000_000;
    const TOKEN_DEPOSIT: u64 = 7_000_000;
    let (eth_depositor, token_depositor) = (pipeline.l1_wallet(1), pipeline.l1_wallet(2));
    let (eth_recipient, token_recipient) = (pipeline.l1_wallet(3), pipeline.l1_wallet(4));
    let newcomer = pipeline.ledger.add_key(key_in(0));
    let holder = 3;
    assert_eq!(pipeline.ledger.partitions[holder], 1);

    let l1_url = pipeline.anvil.endpoint();
    let deposits = [
        (&eth_depositor, Token::Eth, newcomer, ETH_DEPOSIT),
        (&token_depositor, Token::TestToken, holder, TOKEN_DEPOSIT),
    ];
    let mut expected_rows = Vec::new();
    for (index, (wallet, token, to, amount)) in deposits.into_iter().enumerate() {
        let key = pipeline.ledger.keys[to].public_key();
        let mint = token == Token::TestToken;
        let deposited =
            bridge::deposit(&l1_url, pipeline.rollup, wallet, &key, token, amount, mint)
                .await
                .unwrap();
        assert_eq!(deposited.index, index as u64, "the queue's next index");
        let head = pipeline
            .contract()
            .queueHead(U256::from(index + 1))
            .call()
            .await
            .unwrap();
        assert_eq!(deposited.queue_head, head);
        pipeline.ledger.deposit(token, to, amount);
        expected_rows.push(DepositRow {
            index: index as u64,
            token: token.into(),
            key: key.to_bytes().to_vec(),
            amount,
            tx_hash: deposited.tx_hash,
            batch: None,
        });
        pipeline.log(format!(
            "deposit {index} queued on L1: {amount} of {token} to key {to}, {} gas",
            deposited.gas_used
        ));
    }
    assert_eq!(pipeline.contract().depositCount().call().await.unwrap(), 2);
    // Anvil mines each deposit in a block of its own, and settlement's one confirmation
    // counts that block: the watcher needs no further blocks.
    wait_until(
        "the deposit watcher to store both deposits",
        L1_TIMEOUT,
        Duration::from_millis(100),
        || async { (pipeline.deposit_rows().await.len() == 2).then_some(()) },
    )
    .await;
    assert_eq!(pipeline.deposit_rows().await, expected_rows);

    let batch = pipeline
        .submit_batch(&[
            (0, 1, 100_000),
            (1, 2, 200_000),
            (2, 0, 300_000),
            (3, 4, 400_000), // inside partition 1
            (4, 0, 500_000), // 1 -> 0
            (0, 3, 600_000), // 0 -> 1
        ])
        .await;
    assert_eq!(batch, 4);
    assert_eq!(pipeline.expected[3].deposits, 2);
    for account in [newcomer, holder] {
        pipeline.check_account(account).await;
    }
    pipeline.log("deposits credited in batch 4, as the sequencer's API shows");
    for row in &mut expected_rows {
        row.batch = Some(batch);
    }
    assert_eq!(pipeline.deposit_rows().await, expected_rows);
    pipeline.wait_proven(batch).await;
    let row = pipeline.wait_settled(batch).await;
    pipeline.check_settled(batch, &row).await;
    assert_eq!(
        pipeline.contract().consumedDeposits().call().await.unwrap(),
        2
    );

    let withdrawals = [
        (Token::Eth, newcomer, &eth_recipient, 30_000_000),
        (Token::TestToken, holder, &token_recipient, 2_000_000),
    ];
    let mut ops = vec![
        Op::Transfer {
            token: Token::TestToken,
            from: holder,
            to: 0, // partition 1 -> 0
            amount: 1_500_000,
        },
        Op::Transfer {
            token: Token::Eth,
            from: 1,
            to: 2,
            amount: 1_000,
        },
        Op::Transfer {
            token: Token::Eth,
            from: 4,
            to: 3,
            amount: 2_000,
        },
        Op::Transfer {
            token: Token::Eth,
            from: 2,
            to: 4,
            amount: 3_000,
        },
    ];
    ops.extend(
        withdrawals
            .iter()
            .map(|&(token, from, wallet, amount)| Op::Withdraw {
                token,
                from,
                to: wallet.address(),
                amount,
            }),
    );
    let batch = pipeline.submit_ops(&ops).await;
    assert_eq!(batch, 5);
    pipeline.wait_proven(batch).await;
    let row = pipeline.wait_settled(batch).await;
    pipeline.check_settled(batch, &row).await;
    assert_eq!(
        pipeline.contract().consumedDeposits().call().await.unwrap(),
        2
    );

    // Every withdrawal credit on L1, of every batch, is the ledger's.
    let filter = Filter::new()
        .address(pipeline.rollup)
        .event_signature(IRollup::WithdrawalCredited::SIGNATURE_HASH)
        .from_block(0);
    let mut credited: Vec<Credit> = pipeline
        .l1
        .get_logs(&filter)
        .await
        .unwrap()
        .iter()
        .map(|log| {
            let event = log
                .log_decode::<IRollup::WithdrawalCredited>()
                .unwrap()
                .inner
                .data;
            assert_eq!(event.batch, batch);
            Credit {
                token: event.token,
                recipient: event.recipient,
                amount: event.amount,
            }
        })
        .collect();
    let credit = |&(token, _, wallet, amount): &(Token, usize, &PrivateKeySigner, u64)| Credit {
        token: token.into(),
        recipient: wallet.address(),
        amount,
    };
    let mut expected: Vec<Credit> = withdrawals.iter().map(credit).collect();
    credited.sort_unstable();
    expected.sort_unstable();
    assert_eq!(credited, expected, "the only withdrawal credits on L1");
    for withdrawal in &withdrawals {
        pipeline.claim(withdrawal.2, credit(withdrawal)).await;
    }
    pipeline.check_escrow().await;
}

/// The three scenarios on one pipeline, so that the circuits are loaded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_settles_proven_batches_on_l1_and_survives_a_settlement_kill() {
    let mut pipeline = Pipeline::start().await;
    pipeline.log("pipeline up: scenario 1, transfers_flow_to_a_proof_verified_on_l1");
    transfers_flow_to_a_proof_verified_on_l1(&mut pipeline).await;
    pipeline.log("scenario 2, settlement_killed_mid_flight_loses_nothing_and_posts_once");
    settlement_killed_mid_flight_loses_nothing_and_posts_once(&mut pipeline).await;
    pipeline.log("scenario 3, deposits_and_withdrawals_cross_the_bridge");
    deposits_and_withdrawals_cross_the_bridge(&mut pipeline).await;
    pipeline.log("done");
    let dir: &Path = &pipeline.dir;
    let _ = std::fs::remove_dir_all(dir);
}
