//! What the L1 benchmarks (`verifier_bench`, `l1_bench`) share: the gas rules of a
//! transaction's intrinsic cost, the committed wrapper-proof fixture, and deploying forge's
//! build output on Anvil.

use std::fs;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol_types::SolValue,
};
use anyhow::{ensure, Context, Result};
use integration_tests::repo_root;

/// EIP-7825's cap on one transaction's gas: every transaction here is sent with it.
pub const TX_GAS_CAP: u64 = 1 << 24;
/// A transaction's base cost.
pub const TX_BASE_GAS: u64 = 21_000;
/// EIP-170's cap on deployed code.
pub const CODE_SIZE_CAP: usize = 24_576;

/// EIP-2028 calldata tokens: 1 per zero byte, 4 per other byte.
pub fn calldata_tokens(data: &[u8]) -> u64 {
    data.iter().map(|&b| if b == 0 { 1 } else { 4 }).sum()
}

/// EIP-2028's calldata gas: 4 per token (4 per zero byte, 16 per other byte).
pub fn calldata_gas(data: &[u8]) -> u64 {
    4 * calldata_tokens(data)
}

/// EIP-7623's floor on a transaction's gas (Prague): 21,000 + 10 per token. A transaction
/// pays the larger of this and 21,000 + calldata gas + execution.
pub fn calldata_floor_gas(data: &[u8]) -> u64 {
    TX_BASE_GAS + 10 * calldata_tokens(data)
}

/// A file of the committed wrapper-proof fixture (`contracts/test/data/verifier/`).
pub fn verifier_fixture(name: &str) -> Result<Vec<u8>> {
    let path = repo_root().join("contracts/test/data/verifier").join(name);
    fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// The fixture's proof and its public inputs, as the verifier takes them.
pub fn wrapper_proof_fixture() -> Result<(Vec<U256>, Vec<u8>)> {
    let inputs = verifier_fixture("wrapper_public_inputs.bin")?
        .chunks(32)
        .map(U256::from_be_slice)
        .collect();
    Ok((inputs, verifier_fixture("wrapper_proof.bin")?))
}

/// `code` with one address appended as its constructor argument (the verifier's gate
/// evaluator).
pub fn with_address_argument(mut code: Vec<u8>, argument: Address) -> Vec<u8> {
    code.extend_from_slice(&argument.abi_encode());
    code
}

/// Deploys `code` (creation code with its constructor arguments) and returns the contract's
/// address and its deployed code size.
pub async fn deploy(provider: &impl Provider, code: Vec<u8>) -> Result<(Address, usize)> {
    let receipt = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(code))
        .await?
        .get_receipt()
        .await?;
    ensure!(receipt.status(), "deployment reverted");
    let address = receipt.contract_address.context("a created contract")?;
    let size = provider.get_code_at(address).await?.len();
    Ok((address, size))
}

/// Sends `input` to `to` with the EIP-7825 cap as gas limit and returns the receipt's gas
/// used, failing if it reverted.
pub async fn send_call(provider: &impl Provider, to: Address, input: Vec<u8>) -> Result<u64> {
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_input(input)
        .with_gas_limit(TX_GAS_CAP);
    let receipt = provider.send_transaction(tx).await?.get_receipt().await?;
    ensure!(receipt.status(), "the transaction to {to} reverted");
    Ok(receipt.gas_used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_gas_follows_eip_2028_and_the_floor_eip_7623() {
        let data = [0u8, 1, 0, 255];
        assert_eq!(calldata_tokens(&data), 1 + 4 + 1 + 4);
        assert_eq!(calldata_gas(&data), 40);
        assert_eq!(calldata_floor_gas(&data), 21_000 + 100);
    }
}
