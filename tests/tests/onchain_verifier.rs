//! The generated plonky2 verifier (contracts/src/verifier) on Anvil with the EIP-7825 gas cap
//! enforced: the committed wrapper proof of a real batch (proven through the whole devnet
//! proof tree by `cargo run -p prover --bin generate-verifier`) verifies in one real
//! transaction under the cap, and a flipped proof byte or a changed public input is rejected.
//!
//! The contracts' bytecode comes from forge's build output; the test runs
//! `forge build --offline` first (`make test` runs the Rust tests before the forge ones).

use alloy::{
    network::TransactionBuilder,
    primitives::{Bytes, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol,
    sol_types::SolValue,
};
use integration_tests::{creation_code, forge_build, repo_root, spawn_anvil};

/// EIP-7825's cap on one transaction's gas.
const TX_GAS_CAP: u64 = 1 << 24;
/// EIP-170's cap on deployed code.
const CODE_SIZE_CAP: usize = 24_576;

sol! {
    #[sol(rpc)]
    interface IPlonky2Verifier {
        function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool);
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = repo_root().join("contracts/test/data/verifier").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The 8 public inputs (the batch statement's u32 words), one 32-byte word each.
fn public_inputs() -> Vec<U256> {
    fixture("wrapper_public_inputs.bin")
        .chunks(32)
        .map(U256::from_be_slice)
        .collect()
}

#[tokio::test]
async fn a_real_wrapper_proof_verifies_on_anvil_under_the_eip7825_cap() {
    forge_build();
    let evaluator_code = creation_code("WrapperGateEvaluator.sol", "WrapperGateEvaluator");
    let verifier_code = creation_code("Plonky2Verifier.sol", "Plonky2Verifier");

    let anvil = spawn_anvil(31337).expect("anvil starts (run `make test` to install it)");
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(anvil.endpoint_url());

    let deploy = |code: Vec<u8>| {
        let provider = &provider;
        async move {
            let receipt = provider
                .send_transaction(TransactionRequest::default().with_deploy_code(code))
                .await
                .expect("deployment sent")
                .get_receipt()
                .await
                .expect("deployment mined");
            assert!(receipt.status(), "deployment reverted");
            let address = receipt.contract_address.expect("a created contract");
            let size = provider.get_code_at(address).await.unwrap().len();
            (address, size, receipt.gas_used)
        }
    };
    let (evaluator, evaluator_size, evaluator_gas) = deploy(evaluator_code).await;
    let mut code = verifier_code;
    code.extend_from_slice(&evaluator.abi_encode());
    let (verifier_address, verifier_size, verifier_gas) = deploy(code).await;
    eprintln!(
        "deployed: WrapperGateEvaluator {evaluator_size} bytes ({evaluator_gas} gas), \
         Plonky2Verifier {verifier_size} bytes ({verifier_gas} gas)"
    );
    assert!(evaluator_size <= CODE_SIZE_CAP && verifier_size <= CODE_SIZE_CAP);

    let verifier = IPlonky2Verifier::new(verifier_address, &provider);
    let proof = Bytes::from(fixture("wrapper_proof.bin"));
    let inputs = public_inputs();
    assert_eq!(inputs.len(), 8);

    // The verdict of a call first, then a real transaction, under the cap.
    assert!(verifier
        .verify(inputs.clone(), proof.clone())
        .call()
        .await
        .expect("the proof verifies"));
    let receipt = verifier
        .verify(inputs.clone(), proof.clone())
        .gas(TX_GAS_CAP)
        .send()
        .await
        .expect("the transaction is accepted under the cap")
        .get_receipt()
        .await
        .expect("mined");
    assert!(receipt.status(), "verification reverted on chain");
    assert!(receipt.gas_used < TX_GAS_CAP);
    eprintln!(
        "verifier.gas {} (whole transaction: {} bytes of proof calldata, intrinsic cost included)",
        receipt.gas_used,
        proof.len()
    );

    // A flipped byte in each part of the proof, and every changed public input, fail.
    for at in [
        0,
        100,
        proof.len() / 3,
        proof.len() / 2,
        proof.len() - 100,
        proof.len() - 1,
    ] {
        let mut bad = proof.to_vec();
        bad[at] ^= 1;
        let verdict = verifier
            .verify(inputs.clone(), Bytes::from(bad))
            .gas(TX_GAS_CAP)
            .call()
            .await;
        assert!(verdict.is_err(), "a proof with byte {at} flipped verified");
    }
    for i in 0..inputs.len() {
        let mut bad = inputs.clone();
        bad[i] += U256::from(1u64);
        let verdict = verifier
            .verify(bad, proof.clone())
            .gas(TX_GAS_CAP)
            .call()
            .await;
        assert!(verdict.is_err(), "public input {i} changed and verified");
    }
    // A rejected proof sent as a transaction reverts (status 0) rather than passing.
    let mut bad = proof.to_vec();
    bad[proof.len() / 2] ^= 1;
    let sent = verifier
        .verify(inputs, Bytes::from(bad))
        .gas(TX_GAS_CAP)
        .send()
        .await;
    if let Ok(pending) = sent {
        let receipt = pending.get_receipt().await.expect("mined");
        assert!(!receipt.status(), "a tampered proof passed on chain");
    }
}
