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
    tree::TreeConfig,
};
use sequencer::{
    restore::restore_from_l1,
    settlement::{
        deploy::deploy_contracts, Progress, SettlementConfig, SettlementMetrics, SettlementStore,
        Settler, StoredAsL1,
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
        deployed.gas.gates + deployed.gas.verifier + deployed.gas.rollup
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
                from: 0,
                to: 1,
                amount: 1_000,
                fee: 10,
            }],
            new_accounts: vec![],
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
        3,
        "only the three deployments were sent"
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
