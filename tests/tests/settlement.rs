//! Settlement and restore against a real Anvil (EIP-7825 cap on) with the real contracts:
//! the generated `Plonky2Verifier` and its gate evaluator, and `Rollup`, deployed from
//! forge's build output.
//!
//! What needs a proof of a batch's own statement (a batch verified end to end) waits for a
//! proof fixture that comes with its batch data (see the settlement report); until then
//! these tests cover everything around it on the real chain: restore from the genesis
//! event, the operator check, L1's refusal of a batch whose statement the proof does not
//! prove (the real verifier rejects the committed fixture proof for another statement, in
//! the gas estimate, so no gas is burnt and nothing is recorded), and the root check
//! before posting.

use std::{process::Command, sync::Mutex, time::Duration};

use alloy::{
    primitives::Address,
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use integration_tests::{repo_root, spawn_anvil, workspace_binary, TestDatabase};
use rollup_core::{
    batch_data::{BatchData, ChunkData, DataCommitment, TransferRecord},
    genesis::{Genesis, GenesisAccount, DEFAULT_CHAIN_ID},
    schnorr::SecretKey,
    token::Token,
    tree::TreeConfig,
};
use sequencer::{
    bridge,
    restore::restore_from_l1,
    settlement::{
        contract::IRollup, deploy::deploy_contracts, deposits::DepositWatcher, Progress,
        SettlementConfig, SettlementMetrics, SettlementStore, Settler, StoredAsL1,
    },
    Error,
};
use sqlx::PgPool;

/// forge's build output (`contracts/out`), built first: `make test` runs the Rust tests
/// before forge's, so the artifacts may not exist yet.
fn artifacts() -> std::path::PathBuf {
    static BUILD: Mutex<bool> = Mutex::new(false);
    let contracts = repo_root().join("contracts");
    let mut built = BUILD.lock().unwrap();
    if !*built {
        let status = Command::new(contracts.join("node_modules/.bin/forge"))
            .args(["build", "--offline"])
            .current_dir(&contracts)
            .status()
            .expect("run forge (installed by `make test`)");
        assert!(status.success(), "forge build failed");
        *built = true;
    }
    contracts.join("out")
}

/// The chain, the contracts and a genesis of three funded accounts.
struct Deployment {
    anvil: alloy::node_bindings::AnvilInstance,
    operator: PrivateKeySigner,
    rollup: Address,
    genesis: Genesis,
}

/// Deploys with the library's `deploy_contracts` (what `rollup deploy` runs).
async fn deployment() -> Deployment {
    let anvil = spawn_anvil(31337).expect("anvil starts (run `make test` to install it)");
    let operator: PrivateKeySigner = anvil.keys()[0].clone().into();
    let accounts: Vec<GenesisAccount> = (0..3)
        .map(|i| GenesisAccount {
            public_key: SecretKey::random().public_key(),
            balance: 1_000_000 + i,
        })
        .collect();
    let tree = TreeConfig::new(32, 4).unwrap();
    let genesis = Genesis::new(DEFAULT_CHAIN_ID, tree, accounts).unwrap();
    let deployed = deploy_contracts(&anvil.endpoint(), &operator, &genesis, &artifacts())
        .await
        .expect("deploy the contracts");
    assert_eq!(deployed.operator, operator.address());
    assert_eq!(
        deployed.gas.total,
        deployed.gas.gates + deployed.gas.verifier + deployed.gas.token + deployed.gas.rollup
    );
    Deployment {
        anvil,
        operator,
        rollup: deployed.rollup,
        genesis,
    }
}

fn config(deployment: &Deployment, operator: PrivateKeySigner) -> SettlementConfig {
    SettlementConfig {
        l1_url: deployment.anvil.endpoint(),
        rollup: deployment.rollup,
        operator,
        confirmations: 1,
        poll_interval: Duration::from_millis(50),
        resubmit_after: Duration::from_secs(60),
        receipt_grace: Duration::from_secs(30),
        max_reverts: 1,
    }
}

#[tokio::test]
async fn restore_rebuilds_the_genesis_state_from_l1_alone() {
    let deployment = deployment().await;
    let restored = restore_from_l1(&deployment.anvil.endpoint(), deployment.rollup)
        .await
        .unwrap();
    assert_eq!(restored.state_root, deployment.genesis.state_root);
    assert_eq!(restored.last_batch, 0);
    assert_eq!(restored.accounts, 3);
    assert_eq!(restored.l2_chain_id, DEFAULT_CHAIN_ID);

    // The CLI prints the same, as JSON.
    let output = Command::new(workspace_binary("rollup"))
        .args([
            "restore",
            "--l1",
            &deployment.anvil.endpoint(),
            "--rollup",
            &deployment.rollup.to_string(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        printed["state_root"],
        deployment.genesis.state_root.to_string()
    );
    assert_eq!(printed["last_batch"], 0);

    // Another address is not a Rollup: refused, not a made-up state.
    assert!(
        restore_from_l1(&deployment.anvil.endpoint(), deployment.operator.address())
            .await
            .is_err()
    );
}

/// Batch 1 in the database, continuing `old_root`, with a final proof stored as the prover
/// stores it (here the verifier's committed fixture, a real proof of another statement).
async fn seed_batch(db: &PgPool, old_root: &rollup_core::hash::Digest) -> Vec<u8> {
    let data = BatchData {
        chunks: vec![ChunkData {
            transfers: vec![TransferRecord {
                token: rollup_core::token::Token::Eth,
                withdrawal: false,
                from: 0,
                to: 1,
                amount: 1_000,
                fee: 10,
            }],
            ..ChunkData::default()
        }],
    }
    .encode()
    .unwrap();
    sqlx::query(
        "INSERT INTO batches (number, old_root, new_root, data_commitment, data, transfer_count, fees)
         VALUES (1, $1, $1, $2, $3, 1, 10)",
    )
    .bind(old_root.to_bytes().to_vec())
    .bind(DataCommitment::of_calldata(&data).unwrap().0.to_vec())
    .bind(&data)
    .execute(db)
    .await
    .unwrap();
    let proof = std::fs::read(repo_root().join("contracts/test/data/verifier/wrapper_proof.bin"))
        .expect("the verifier's proof fixture");
    sqlx::query(
        "INSERT INTO prover_jobs (batch_number, kind, job_key, input, is_final, status, pending_deps, max_attempts, result)
         VALUES (1, 'wrap', 'wrap/0', '', TRUE, 'done', 0, 1, $1)",
    )
    .bind(&proof)
    .execute(db)
    .await
    .unwrap();
    data
}

#[tokio::test]
async fn settlement_checks_the_operator_and_l1_refuses_a_proof_of_another_statement() {
    let deployment = deployment().await;
    let database = TestDatabase::create("settlement").await;
    let db = PgPool::connect(&database.url).await.unwrap();
    rollup_core::schema::migrate(&db).await.unwrap();
    let store = SettlementStore::new(db.clone());
    let connect = |key: PrivateKeySigner| {
        Settler::connect(
            config(&deployment, key),
            store.clone(),
            std::sync::Arc::new(StoredAsL1),
            SettlementMetrics::new(),
        )
    };

    // A key without the operator role is refused before anything is sent.
    let stranger: PrivateKeySigner = deployment.anvil.keys()[1].clone().into();
    assert!(matches!(connect(stranger).await, Err(Error::Config(_))));

    let settler = connect(deployment.operator.clone()).await.unwrap();
    assert_eq!(
        settler.step().await.unwrap(),
        Progress::Idle,
        "no batch yet"
    );

    seed_batch(&db, &deployment.genesis.state_root).await;
    // The real verifier rejects the proof (it proves another statement) in the gas
    // estimate: a fatal refusal, nothing broadcast, nothing recorded.
    let refused = settler.step().await.unwrap_err();
    assert!(matches!(refused, Error::Settlement(_)), "{refused}");
    assert!(refused.to_string().contains("refuses batch 1"), "{refused}");
    assert!(store.open_transactions().await.unwrap().is_empty());
    assert!(store.batch_transactions(1).await.unwrap().is_empty());
    let provider = ProviderBuilder::new().connect_http(deployment.anvil.endpoint_url());
    assert_eq!(
        provider
            .get_transaction_count(deployment.operator.address())
            .await
            .unwrap(),
        4,
        "only the four deployments were sent"
    );
}

#[tokio::test]
async fn settlement_refuses_a_database_that_does_not_continue_l1() {
    let deployment = deployment().await;
    let database = TestDatabase::create("settlement_root").await;
    let db = PgPool::connect(&database.url).await.unwrap();
    rollup_core::schema::migrate(&db).await.unwrap();
    // Batch 1 starts from a root L1 never had.
    let other = Genesis::new(
        DEFAULT_CHAIN_ID,
        TreeConfig::new(32, 4).unwrap(),
        vec![GenesisAccount {
            public_key: SecretKey::random().public_key(),
            balance: 5,
        }],
    )
    .unwrap();
    seed_batch(&db, &other.state_root).await;
    let settler = Settler::connect(
        config(&deployment, deployment.operator.clone()),
        SettlementStore::new(db),
        std::sync::Arc::new(StoredAsL1),
        SettlementMetrics::new(),
    )
    .await
    .unwrap();
    let error = settler.step().await.unwrap_err();
    assert!(
        error.to_string().contains("does not continue the chain"),
        "{error}"
    );
}

#[tokio::test]
async fn rollup_deploy_deploys_a_genesis_file_and_prints_the_addresses() {
    let anvil = spawn_anvil(31337).expect("anvil starts (run `make test` to install it)");
    let operator: PrivateKeySigner = anvil.keys()[0].clone().into();
    let genesis = Genesis::new(
        DEFAULT_CHAIN_ID,
        TreeConfig::new(32, 4).unwrap(),
        vec![GenesisAccount {
            public_key: SecretKey::random().public_key(),
            balance: 7,
        }],
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("rollup-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("genesis.json");
    let _ = std::fs::remove_file(&path);
    genesis.write_new_file(&path).unwrap();

    let output = Command::new(workspace_binary("rollup"))
        .args(["deploy", "--l1", &anvil.endpoint(), "--genesis"])
        .arg(&path)
        .arg("--artifacts")
        .arg(artifacts())
        .env("ROLLUP_DEPLOY_KEY", operator.to_bytes().to_string())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{output:?}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(printed["gas"]["total"].as_u64().unwrap() > 0, "{printed}");
    let rollup: Address = printed["rollup"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        printed["operator"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        operator.address()
    );
    // The Rollup starts from the file's genesis.
    let restored = restore_from_l1(&anvil.endpoint(), rollup).await.unwrap();
    assert_eq!(restored.state_root, genesis.state_root);
    assert_eq!(restored.accounts, 1);
}

/// Rows of the `deposits` table: (queue index, token, amount, queue head).
async fn deposit_rows(db: &PgPool) -> Vec<(i64, i16, i64, Vec<u8>)> {
    sqlx::query_as(
        "SELECT queue_index, token, amount, queue_head FROM deposits ORDER BY queue_index",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

/// The deposit watcher against real deposits: it hands over only deposits `confirmations`
/// deep, each once and in queue order with the contract's queue heads, resumes where it
/// stopped, and stops on a queue chain that does not link (a missed or altered deposit).
#[tokio::test]
async fn the_deposit_watcher_hands_over_confirmed_deposits_once_and_in_order() {
    let deployment = deployment().await;
    let url = deployment.anvil.endpoint();
    let depositor: PrivateKeySigner = deployment.anvil.keys()[1].clone().into();
    let database = TestDatabase::create("deposits").await;
    let db = PgPool::connect(&database.url).await.unwrap();
    rollup_core::schema::migrate(&db).await.unwrap();
    let provider = alloy::providers::RootProvider::new_http(url.parse().unwrap());
    let watcher = DepositWatcher::new(
        provider.clone(),
        deployment.rollup,
        2,
        db.clone(),
        SettlementMetrics::new(),
    );
    let newcomer = SecretKey::random().public_key();
    let holder = deployment.genesis.accounts[0].public_key;
    let eth = bridge::deposit(
        &url,
        deployment.rollup,
        &depositor,
        &newcomer,
        Token::Eth,
        5,
        false,
    )
    .await
    .unwrap();
    assert_eq!(eth.index, 0);
    // The token deposit mints and approves first: three blocks after the ETH deposit's.
    let token = bridge::deposit(
        &url,
        deployment.rollup,
        &depositor,
        &holder,
        Token::TestToken,
        7,
        true,
    )
    .await
    .unwrap();
    assert_eq!(token.index, 1);

    // The token deposit's block is the head: one block deep, not two.
    assert_eq!(watcher.scan().await.unwrap(), 1);
    let rows = deposit_rows(&db).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0, rows[0].1, rows[0].2), (0, 0, 5));
    assert_eq!(rows[0].3, eth.queue_head.to_vec());
    let _: serde_json::Value = provider
        .raw_request("anvil_mine".into(), (1u64,))
        .await
        .unwrap();
    assert_eq!(watcher.scan().await.unwrap(), 1);
    assert_eq!(
        watcher.scan().await.unwrap(),
        0,
        "nothing is handed over twice"
    );
    let rows = deposit_rows(&db).await;
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[1].0, rows[1].1, rows[1].2), (1, 1, 7));
    let contract = IRollup::new(deployment.rollup, provider.clone());
    assert_eq!(
        rows[1].3,
        contract
            .queueHead(alloy::primitives::U256::from(2))
            .call()
            .await
            .unwrap()
            .to_vec()
    );
    assert_eq!(contract.depositCount().call().await.unwrap(), 2);

    // A stored head the next deposit does not link to: the watcher refuses to go on.
    sqlx::query("UPDATE deposits SET queue_head = $1 WHERE queue_index = 1")
        .bind(vec![0u8; 32])
        .execute(&db)
        .await
        .unwrap();
    bridge::deposit(
        &url,
        deployment.rollup,
        &depositor,
        &newcomer,
        Token::Eth,
        1,
        false,
    )
    .await
    .unwrap();
    let _: serde_json::Value = provider
        .raw_request("anvil_mine".into(), (1u64,))
        .await
        .unwrap();
    assert!(matches!(watcher.scan().await, Err(Error::Corrupt(_))));
    assert_eq!(
        deposit_rows(&db).await.len(),
        2,
        "nothing of the broken scan is kept"
    );

    // An invalid L2 key or an amount that is not whole gwei never enters the queue.
    let mut not_a_key = [0u8; 40];
    not_a_key[0] = 1;
    assert!(rollup_core::schnorr::PublicKey::from_bytes(&not_a_key).is_err());
    let call = IRollup::depositCall {
        key: not_a_key.to_vec().into(),
    };
    let signer_provider = ProviderBuilder::new()
        .wallet(alloy::network::EthereumWallet::from(depositor.clone()))
        .connect_http(url.parse().unwrap());
    let refused = signer_provider
        .send_transaction(
            alloy::rpc::types::TransactionRequest::default()
                .to(deployment.rollup)
                .input(alloy::sol_types::SolCall::abi_encode(&call).into())
                .value(alloy::primitives::U256::from(1_000_000_000u64)),
        )
        .await;
    assert!(refused.is_err(), "the gas estimate reverts: InvalidKey");
    // Nothing to claim yet: the claim reverts.
    assert!(
        bridge::claim(&url, deployment.rollup, &depositor, Token::Eth)
            .await
            .is_err()
    );
}
