//! `l1_bench`: L1 gas per batch and per transfer, for batches of 64, 256, 1,024 and 4,096
//! transfers (calldata plus the verification amortised over the batch).
//!
//! Proving a 4,096-transfer batch takes hours on a small machine, and the verification's
//! cost does not depend on the batch (the wrapper proof has one shape and 8 public inputs),
//! so each batch's gas is assembled from parts measured on Anvil in one run, every part
//! on real contracts and real data:
//!
//! 1. **Verification**: the real `Plonky2Verifier` verifies the committed wrapper proof of
//!    a real batch (Prague rules, EIP-7825 cap), as `verifier_bench` does: its execution.
//! 2. **The Rollup's own work**: each batch of real data (a uniform batch of N signed
//!    transfers over the 16 partitions, executed by `rollup_core` and encoded as the
//!    sequencer posts it) is committed through the real `Rollup`, with the real proof's
//!    bytes as its `proof` argument, on a second Anvil under Cancun rules (no EIP-7623
//!    floor, so `gasUsed` = 21,000 + EIP-2028 calldata gas + execution exactly) whose
//!    Rollup has a verifier double that accepts (`contracts/test/utils/`); the double's
//!    own execution, measured alone, is taken out, the real verifier's put in.
//!
//! `batch_gas = 21,000 + calldata gas of the commitBatch input + Rollup execution −
//! double's execution + real verifier execution`; it is checked to be above EIP-7623's
//! floor, so Prague charges exactly this. `data` = calldata gas of the batch data plus the
//! data chain's Keccak execution (`dataCommitment`, measured alone); `fixed` = the rest of
//! the batch's gas, the same for every batch: the verification (proof calldata and
//! execution), the base cost and the Rollup's state update. Gas is deterministic: one run.

use std::{path::PathBuf, time::Instant};

use alloy::{
    node_bindings::Anvil,
    primitives::{Address, Bytes, B256},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
    sol,
    sol_types::SolCall,
};
use anyhow::{ensure, Context, Result};
use bench::{
    l1::{
        calldata_floor_gas, calldata_gas, deploy, send_call, with_address_argument,
        wrapper_proof_fixture, TX_BASE_GAS, TX_GAS_CAP,
    },
    markdown,
    plots::{self, Chart, Series},
    proving::{
        funded_accounts, signed_uniform_batch, DEVNET_CHAIN_ID as CHAIN_ID,
        DEVNET_PARTITION_BITS as PARTITION_BITS, DEVNET_TREE_DEPTH as TREE_DEPTH,
    },
    recorder::Recorder,
};
use clap::Parser;
use integration_tests::{anvil_binary, creation_code, forge_build, spawn_anvil};
use rollup_core::{
    batch_data::{compact::compact, BatchData, CHUNK_TRANSFERS},
    transfer::Transfer,
    tree::TreeConfig,
};
use sequencer::settlement::{contract::root_to_l1, deploy::RollupConstructorCall};

/// L1 gas per batch and per transfer on Anvil.
#[derive(Debug, Parser)]
struct Args {
    /// The results file to merge into; `RESULTS.md` and the plots are written beside it.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
}

sol! {
    #[sol(rpc)]
    interface IBatchVerifier {
        function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool);
    }
}

/// The batch sizes.
const SIZES: [usize; 4] = [64, 256, 1024, 4096];
const SEED: u64 = 0x11_9a5;
/// The targets, per transfer.
const DATA_TARGET: f64 = 300.0;
const FIXED_TARGET_4096: f64 = 1_000.0;

/// A real batch's posted form.
struct PostedBatch {
    transfers: usize,
    /// Chunks of the batch (each proven by one chunk proof).
    chunks: usize,
    /// The compact calldata the settlement module posts.
    data: Vec<u8>,
    new_root: B256,
    fees: [u64; 2],
}

/// A uniform batch of `transfers` over every partition, executed and encoded as the
/// sequencer seals it (`sequencer::batcher::seal`) and the settlement module posts it
/// (compact).
fn posted_batch(transfers: usize) -> Result<PostedBatch> {
    let tree = TreeConfig::new(TREE_DEPTH, PARTITION_BITS)?;
    let accounts = funded_accounts(transfers);
    let mut batch = signed_uniform_batch(
        tree,
        CHAIN_ID,
        tree.num_partitions(),
        accounts,
        transfers,
        SEED ^ transfers as u64,
    )?;
    let plain: Vec<Transfer> = batch.transfers.iter().map(|t| t.transfer).collect();
    let outcome = batch.state.execute_batch(&plain)?;
    let chunks = outcome.chunks();
    let data = BatchData {
        chunks: chunks
            .iter()
            .map(|chunk| chunk.data())
            .collect::<rollup_core::Result<_>>()?,
    }
    .encode()?;
    Ok(PostedBatch {
        transfers,
        chunks: chunks.len(),
        data: compact(&data)?,
        new_root: root_to_l1(&outcome.new_root),
        fees: outcome.fees,
    })
}

/// What one batch size measured.
struct Measured {
    transfers: usize,
    chunks: usize,
    data_bytes: usize,
    batch_gas: u64,
    floor_gas: u64,
    /// EIP-2028 gas of the batch data's bytes in the transaction.
    data_calldata_gas: u64,
    /// Execution of the data chain over them (`dataCommitment` alone).
    data_chain_gas: u64,
    rollup_execution: u64,
}

impl Measured {
    /// The data's share: its calldata and the data chain.
    fn data_gas(&self) -> u64 {
        self.data_calldata_gas + self.data_chain_gas
    }

    fn fixed_gas(&self) -> u64 {
        self.batch_gas - self.data_gas()
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let started = Instant::now();
    let args = Args::parse();
    forge_build();
    let (inputs, proof) = wrapper_proof_fixture()?;
    let verify_input = IBatchVerifier::verifyCall {
        publicInputs: inputs.clone(),
        proof: Bytes::from(proof.clone()),
    }
    .abi_encode();

    // 1. The real verifier on the real proof, under the L1's own rules.
    let prague = spawn_anvil(CHAIN_ID).context("anvil starts (run `make test` to install it)")?;
    let provider = ProviderBuilder::new()
        .wallet(PrivateKeySigner::from(prague.keys()[0].clone()))
        .connect_http(prague.endpoint_url());
    let (evaluator, _) = deploy(
        &provider,
        creation_code("WrapperGateEvaluator.sol", "WrapperGateEvaluator"),
    )
    .await?;
    let (verifier, _) = deploy(
        &provider,
        with_address_argument(
            creation_code("Plonky2Verifier.sol", "Plonky2Verifier"),
            evaluator,
        ),
    )
    .await?;
    let verifier_contract = IBatchVerifier::new(verifier, &provider);
    ensure!(
        verifier_contract
            .verify(inputs.clone(), Bytes::from(proof.clone()))
            .call()
            .await?,
        "the committed proof does not verify"
    );
    let verify_gas = send_call(&provider, verifier, verify_input.clone()).await?;
    let verify_execution = verify_gas - TX_BASE_GAS - calldata_gas(&verify_input);
    eprintln!("[verifier] real proof: {verify_gas} gas, execution {verify_execution}");

    // 2. The Rollup's own execution on real batch data, with the accepting double.
    let cancun = Anvil::at(anvil_binary())
        .chain_id(CHAIN_ID)
        .args(["--host", "127.0.0.1", "--hardfork", "cancun"])
        .try_spawn()
        .context("anvil starts with Cancun rules")?;
    let operator = PrivateKeySigner::from(cancun.keys()[0].clone());
    let operator_address = operator.address();
    let provider = ProviderBuilder::new()
        .wallet(operator)
        .connect_http(cancun.endpoint_url());
    let (double, _) = deploy(
        &provider,
        creation_code("AcceptingVerifier.sol", "AcceptingVerifier"),
    )
    .await?;
    let double_execution = send_call(&provider, double, verify_input.clone()).await?
        - TX_BASE_GAS
        - calldata_gas(&verify_input);

    eprintln!("[batches] executing and encoding {SIZES:?} transfers");
    let mut batches = Vec::new();
    for transfers in SIZES {
        batches.push(posted_batch(transfers)?);
    }
    let rollup = deploy_rollup(&provider, double, operator_address, batches[0].new_root).await?;
    let commit = |number: u64, batch: &PostedBatch| {
        sequencer::settlement::contract::IRollup::commitBatchCall {
            number,
            data: Bytes::from(batch.data.clone()),
            newRoot: batch.new_root,
            ethFees: batch.fees[0],
            tokenFees: batch.fees[1],
            proof: Bytes::from(proof.clone()),
        }
        .abi_encode()
    };
    // Batch 1 warms the Rollup's storage (fees, root, batch number all non-zero), as
    // every batch after the first finds it.
    send_call(&provider, rollup, commit(1, &batches[0])).await?;

    let mut measured = Vec::new();
    for (i, batch) in batches.iter().enumerate() {
        let input = commit(i as u64 + 2, batch);
        let gas = send_call(&provider, rollup, input.clone()).await?;
        let rollup_execution = gas - TX_BASE_GAS - calldata_gas(&input);
        let chain_input = sequencer::settlement::contract::IRollup::dataCommitmentCall {
            data: Bytes::from(batch.data.clone()),
        }
        .abi_encode();
        let chain_execution = send_call(&provider, rollup, chain_input.clone()).await?
            - TX_BASE_GAS
            - calldata_gas(&chain_input);
        let batch_gas = TX_BASE_GAS + calldata_gas(&input) + rollup_execution - double_execution
            + verify_execution;
        let floor_gas = calldata_floor_gas(&input);
        ensure!(
            batch_gas > floor_gas,
            "EIP-7623's floor ({floor_gas}) applies to the {}-transfer batch",
            batch.transfers
        );
        ensure!(batch_gas < TX_GAS_CAP, "over EIP-7825's cap");
        let m = Measured {
            transfers: batch.transfers,
            chunks: batch.chunks,
            data_bytes: batch.data.len(),
            batch_gas,
            floor_gas,
            data_calldata_gas: calldata_gas(&batch.data),
            data_chain_gas: chain_execution,
            rollup_execution: rollup_execution - double_execution,
        };
        eprintln!(
            "[{} transfers] {} chunks, {} data bytes: batch {} gas ({:.0} per transfer): \
             data {:.0} per transfer, fixed {:.0} per transfer",
            m.transfers,
            m.chunks,
            m.data_bytes,
            m.batch_gas,
            m.batch_gas as f64 / m.transfers as f64,
            m.data_gas() as f64 / m.transfers as f64,
            m.fixed_gas() as f64 / m.transfers as f64,
        );
        measured.push(m);
    }

    let mut rec = Recorder::default();
    let mut put = |name: &str, value: f64, unit: &str| {
        eprintln!("  l1.{name} = {value:.1} {unit}");
        rec.record_one(&format!("l1.{name}"), value, unit);
    };
    put("verifier_execution_gas", verify_execution as f64, "gas");
    put(
        "verification_gas",
        (verify_execution + calldata_gas(&proof)) as f64,
        "gas",
    );
    for m in &measured {
        let n = m.transfers;
        let per = |gas: u64| gas as f64 / n as f64;
        put(&format!("batch_gas_{n}"), m.batch_gas as f64, "gas");
        put(&format!("gas_per_transfer_{n}"), per(m.batch_gas), "gas");
        put(
            &format!("data_gas_per_transfer_{n}"),
            per(m.data_gas()),
            "gas",
        );
        put(
            &format!("data_calldata_gas_per_transfer_{n}"),
            per(m.data_calldata_gas),
            "gas",
        );
        put(
            &format!("data_chain_gas_per_transfer_{n}"),
            per(m.data_chain_gas),
            "gas",
        );
        put(
            &format!("fixed_gas_per_transfer_{n}"),
            per(m.fixed_gas()),
            "gas",
        );
        put(
            &format!("data_bytes_per_transfer_{n}"),
            m.data_bytes as f64 / n as f64,
            "bytes",
        );
        put(&format!("chunks_{n}"), m.chunks as f64, "chunks");
        put(
            &format!("chunk_fill_{n}"),
            n as f64 / (m.chunks * CHUNK_TRANSFERS) as f64,
            "share",
        );
        put(
            &format!("rollup_execution_gas_{n}"),
            m.rollup_execution as f64,
            "gas",
        );
        put(&format!("floor_gas_{n}"), m.floor_gas as f64, "gas");
    }
    // The issue splits a batch's gas into calldata and amortised verification; L1's
    // recomputation of the data chain is its half of checking that the proof binds the
    // calldata, so the targets are read both ways: the chain with the data, and with the
    // verification.
    let largest = measured.last().expect("sizes");
    let worst = |f: &dyn Fn(&Measured) -> u64| {
        measured
            .iter()
            .map(|m| f(m) as f64 / m.transfers as f64)
            .fold(0.0, f64::max)
    };
    let per_4096 = |gas: u64| gas as f64 / largest.transfers as f64;
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let (data_max, calldata_max) = (worst(&|m| m.data_gas()), worst(&|m| m.data_calldata_gas));
    let fixed_4096 = per_4096(largest.fixed_gas());
    let verification_4096 = per_4096(largest.fixed_gas() + largest.data_chain_gas);
    eprintln!(
        "targets, chain counted as data: data at most {DATA_TARGET} gas per transfer: {} \
         (worst {data_max:.0}); fixed cost amortised at 4,096 at most {FIXED_TARGET_4096}: {} \
         ({fixed_4096:.0})",
        verdict(data_max <= DATA_TARGET),
        verdict(fixed_4096 <= FIXED_TARGET_4096),
    );
    eprintln!(
        "targets, chain counted as verification: calldata at most {DATA_TARGET}: {} (worst \
         {calldata_max:.0}); verification at 4,096 at most {FIXED_TARGET_4096}: {} \
         ({verification_4096:.0})",
        verdict(calldata_max <= DATA_TARGET),
        verdict(verification_4096 <= FIXED_TARGET_4096),
    );

    let plot = plots::plots_dir(&args.out).join("l1_gas_per_batch.png");
    let line = |f: &dyn Fn(&Measured) -> u64| {
        measured
            .iter()
            .map(|m| (m.transfers as f64, f(m) as f64))
            .collect::<Vec<_>>()
    };
    plots::line_chart(
        &plot,
        &Chart {
            title: "L1 gas per batch (commitBatch with the real verifier)",
            x_label: "transfers in the batch",
            y_label: "gas",
            log2_x: true,
            series: vec![
                Series::measured("whole batch", line(&|m| m.batch_gas)),
                Series::measured(
                    "fixed: verification, base cost, state update",
                    line(&|m| m.fixed_gas()),
                ),
                Series::measured(
                    "data: calldata and its Keccak chain",
                    line(&|m| m.data_gas()),
                ),
            ],
        },
    )?;
    eprintln!("wrote {}", plot.display());
    markdown::write_results_and_page(&args.out, rec.results, "l1_bench", started)
}

/// Deploys the real `Rollup` with `verifier`, the operator as owner and operator, a fresh
/// test token, and no genesis accounts (the root is all the Rollup keeps of them, so no
/// genesis ETH to escrow).
async fn deploy_rollup(
    provider: &impl Provider,
    verifier: Address,
    operator: Address,
    genesis_root: B256,
) -> Result<Address> {
    let (test_token, _) = deploy(provider, creation_code("TestToken.sol", "TestToken")).await?;
    let arguments = RollupConstructorCall {
        verifier,
        owner: operator,
        operator,
        genesisRoot: genesis_root,
        chainId: CHAIN_ID,
        treeDepth: TREE_DEPTH as u8,
        partitionBits: PARTITION_BITS as u8,
        accounts: Bytes::new(),
        testToken: test_token,
    }
    .abi_encode();
    let mut code = creation_code("Rollup.sol", "Rollup");
    code.extend_from_slice(&arguments[4..]);
    Ok(deploy(provider, code).await?.0)
}
