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
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolValue},
};

alloy::sol! {
    /// Rollup's constructor, as a call (for its argument encoding).
    function RollupConstructor(
        address verifier,
        address owner,
        address operator,
        bytes32 genesisRoot,
        uint64 chainId,
        uint8 treeDepth,
        uint8 partitionBits,
        bytes accounts
    );
}
use integration_tests::{repo_root, spawn_anvil, workspace_binary, TestDatabase};
use rollup_core::{
    batch_data::{BatchData, ChunkData, DataCommitment, TransferRecord},
    genesis::{Genesis, GenesisAccount, DEFAULT_CHAIN_ID},
    schnorr::SecretKey,
    tree::TreeConfig,
};
use sequencer::{
    restore::{genesis_accounts_blob, restore_from_l1},
    settlement::{
        contract::root_to_l1, Progress, SettlementConfig, SettlementMetrics, SettlementStore,
        Settler, StoredAsL1,
    },
    Error,
};
use sqlx::PgPool;

/// forge's build output for a contract (`contracts/out/<file>/<name>.json`), built first:
/// `make test` runs the Rust tests before forge's, so the artifacts may not exist yet.
fn bytecode(file: &str, name: &str) -> Vec<u8> {
    static BUILD: Mutex<bool> = Mutex::new(false);
    let contracts = repo_root().join("contracts");
    {
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
    }
    let path = contracts.join(format!("out/{file}/{name}.json"));
    let artifact: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("forge artifact")).unwrap();
    let hex = artifact["bytecode"]["object"].as_str().unwrap();
    alloy::hex::decode(hex).unwrap()
}

/// The chain, the contracts and a genesis of three funded accounts.
struct Deployment {
    anvil: alloy::node_bindings::AnvilInstance,
    operator: PrivateKeySigner,
    rollup: Address,
    genesis: Genesis,
}

async fn deploy(code: Vec<u8>, args: Vec<u8>, signer: &PrivateKeySigner, url: &str) -> Address {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect_http(url.parse().unwrap());
    let mut input = code;
    input.extend_from_slice(&args);
    let receipt = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(input))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "deployment reverted");
    receipt.contract_address.unwrap()
}

async fn deployment() -> Deployment {
    let anvil = spawn_anvil(31337).expect("anvil starts (run `make test` to install it)");
    let url = anvil.endpoint();
    let operator: PrivateKeySigner = anvil.keys()[0].clone().into();
    let gates = deploy(
        bytecode("WrapperGateEvaluator.sol", "WrapperGateEvaluator"),
        vec![],
        &operator,
        &url,
    )
    .await;
    let verifier = deploy(
        bytecode("Plonky2Verifier.sol", "Plonky2Verifier"),
        gates.abi_encode(),
        &operator,
        &url,
    )
    .await;
    let accounts: Vec<GenesisAccount> = (0..3)
        .map(|i| GenesisAccount {
            public_key: SecretKey::random().public_key(),
            balance: 1_000_000 + i,
        })
        .collect();
    let tree = TreeConfig::new(32, 4).unwrap();
    let genesis = Genesis::new(DEFAULT_CHAIN_ID, tree, accounts).unwrap();
    // The constructor's arguments are ABI-encoded like a call's, minus the selector.
    let args = RollupConstructorCall {
        verifier,
        owner: operator.address(),
        operator: operator.address(),
        genesisRoot: root_to_l1(&genesis.state_root),
        chainId: DEFAULT_CHAIN_ID,
        treeDepth: 32,
        partitionBits: 4,
        accounts: Bytes::from(genesis_accounts_blob(&genesis.accounts)),
    }
    .abi_encode()[4..]
        .to_vec();
    let rollup = deploy(bytecode("Rollup.sol", "Rollup"), args, &operator, &url).await;
    Deployment {
        anvil,
        operator,
        rollup,
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
