//! `verifier_bench`: the gas of one on-chain verification of the committed wrapper proof.
//!
//! Starts the pinned Anvil with the EIP-7825 cap on (as the integration tests do), deploys
//! the generated `WrapperGateEvaluator` and `Plonky2Verifier` (forge's build output) and the
//! gas-profile variant `Plonky2VerifierProfile` (`contracts/test/profile/`), sends the real
//! proof fixture's `verify` as a transaction and reads its receipt, then runs the profile
//! variant, whose `verify` returns a `gas()` checkpoint before each of
//! `prover::solidity::PROFILE_SECTIONS` and one after the last. Gas is deterministic, so one
//! run suffices. Figures (`markdown::VERIFIER` explains them) are merged into `--out`
//! (default `bench/results.json`) and `RESULTS.md` beside it is regenerated.

use std::{path::PathBuf, time::Instant};

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, Bytes, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol,
    sol_types::SolCall,
};
use anyhow::{ensure, Context, Result};
use bench::{
    l1::{
        calldata_floor_gas, calldata_gas, deploy, with_address_argument, wrapper_proof_fixture,
        CODE_SIZE_CAP, TX_BASE_GAS, TX_GAS_CAP,
    },
    markdown,
    recorder::Recorder,
};
use clap::Parser;
use integration_tests::{creation_code, forge_build, spawn_anvil};
use prover::solidity::PROFILE_SECTIONS;

/// Gas of one verification of the committed wrapper proof on Anvil.
#[derive(Debug, Parser)]
struct Args {
    /// The results file to merge into; `RESULTS.md` is regenerated beside it.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
}

sol! {
    interface IPlonky2Verifier {
        function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool);
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let started = Instant::now();
    let args = Args::parse();
    forge_build();
    let anvil = spawn_anvil(31337).context("anvil starts (run `make test` to install it)")?;
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(anvil.endpoint_url());

    let (evaluator, evaluator_size) = deploy(
        &provider,
        creation_code("WrapperGateEvaluator.sol", "WrapperGateEvaluator"),
    )
    .await?;
    let (verifier, verifier_size) = deploy(
        &provider,
        with_address_argument(
            creation_code("Plonky2Verifier.sol", "Plonky2Verifier"),
            evaluator,
        ),
    )
    .await?;
    let (profile, _) = deploy(
        &provider,
        with_address_argument(
            creation_code("Plonky2VerifierProfile.sol", "Plonky2VerifierProfile"),
            evaluator,
        ),
    )
    .await?;

    let (inputs, proof) = wrapper_proof_fixture()?;
    let input = Bytes::from(
        IPlonky2Verifier::verifyCall {
            publicInputs: inputs,
            proof: Bytes::from(proof.clone()),
        }
        .abi_encode(),
    );
    // Prague's intrinsic gas: 21,000 + 4 per calldata token (EIP-2028), unless EIP-7623's
    // floor of 10 per token is higher than all the transaction spends.
    let calldata_gas = calldata_gas(&input);
    let floor_gas = calldata_floor_gas(&input);
    let intrinsic = TX_BASE_GAS + calldata_gas;
    let call = |to: Address| {
        TransactionRequest::default()
            .with_to(to)
            .with_input(input.clone())
            .with_gas_limit(TX_GAS_CAP)
    };
    let send = |to: Address| {
        let (provider, tx) = (&provider, call(to));
        async move {
            let receipt = provider.send_transaction(tx).await?.get_receipt().await?;
            ensure!(receipt.status(), "verify reverted on chain");
            ensure!(receipt.gas_used > floor_gas, "EIP-7623's floor applies");
            anyhow::Ok(receipt.gas_used)
        }
    };

    let gas = send(verifier).await?;
    let returned = provider.call(call(verifier)).await?;
    ensure!(
        U256::from_be_slice(&returned) == U256::from(1u64),
        "the proof does not verify"
    );
    let execution = gas - intrinsic;

    // The profile variant: checkpoints of gas() left, read from a call, and its own receipt.
    let profile_gas = send(profile).await?;
    let words = provider.call(call(profile)).await?;
    ensure!(
        words.len() == 32 * (PROFILE_SECTIONS.len() + 1),
        "the profile variant returned {} bytes",
        words.len()
    );
    let left: Vec<u64> = words
        .chunks(32)
        .map(|w| U256::from_be_slice(w).to::<u64>())
        .collect();
    let profile_execution = profile_gas - intrinsic;
    // Before the first checkpoint: dispatch, ABI decoding and length checks.
    let dispatch = TX_GAS_CAP - intrinsic - left[0];
    let sections: Vec<u64> = left.windows(2).map(|w| w[0] - w[1]).collect();
    let measured = dispatch + sections.iter().sum::<u64>();
    ensure!(
        measured <= profile_execution && profile_execution - measured < 100,
        "the checkpoints ({measured} gas) do not account for the profile's execution \
         ({profile_execution} gas)"
    );
    let section = |name: &str| {
        sections[PROFILE_SECTIONS
            .iter()
            .position(|&s| s == name)
            .expect("a profile section")]
    };

    let mut rec = Recorder::default();
    let mut put = |name: &str, value: u64, unit: &str| {
        eprintln!("  verifier.{name} = {value} {unit}");
        rec.record_one(&format!("verifier.{name}"), value as f64, unit);
    };
    put("gas", gas, "gas");
    put("base_gas", TX_BASE_GAS, "gas");
    put("calldata_gas", calldata_gas, "gas");
    put("calldata_floor_gas", floor_gas, "gas");
    put("execution_gas", execution, "gas");
    put("dispatch_gas", dispatch, "gas");
    for (name, gas) in PROFILE_SECTIONS.iter().zip(&sections) {
        put(&format!("{name}_gas"), *gas, "gas");
    }
    put(
        "challenger_gas",
        section("public_inputs_hash") + section("transcript"),
        "gas",
    );
    put(
        "gates_gas",
        section("gate_constraints") + section("vanishing_quotient"),
        "gas",
    );
    put(
        "profile_overhead_gas",
        profile_execution.saturating_sub(execution),
        "gas",
    );
    put("proof_bytes", proof.len() as u64, "bytes");
    put("calldata_bytes", input.len() as u64, "bytes");
    put("contract_bytes", verifier_size as u64, "bytes");
    put("gate_evaluator_bytes", evaluator_size as u64, "bytes");
    ensure!(gas < TX_GAS_CAP, "over EIP-7825's cap");
    ensure!(
        verifier_size <= CODE_SIZE_CAP && evaluator_size <= CODE_SIZE_CAP,
        "over EIP-170's code size cap"
    );

    markdown::write_results_and_page(&args.out, rec.results, "verifier_bench", started)
}
