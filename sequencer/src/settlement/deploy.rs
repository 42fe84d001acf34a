//! Deploys the L1 contracts of a rollup: the generated `WrapperGateEvaluator`, the
//! `Plonky2Verifier` that calls it, the ERC-20 `TestToken` (L2 token 1) and `Rollup` with
//! a genesis's root and accounts, from forge's build output (`contracts/out`). The Rollup's
//! deployment sends the genesis balances' ETH, its escrow of every genesis account. Used by
//! `rollup deploy` (the devnet) and the settlement tests.

use std::path::Path;

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolValue},
};
use rollup_core::{genesis::Genesis, token::L1_UNITS_PER_L2_UNIT};
use serde::Serialize;

use super::contract::root_to_l1;
use crate::{restore::genesis_accounts_blob, Error, Result};

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
        bytes accounts,
        address testToken
    );
}

/// Gas used by each deployment transaction.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct DeploymentGas {
    /// The gate evaluator's.
    pub gates: u64,
    /// The verifier's.
    pub verifier: u64,
    /// The test token's.
    pub token: u64,
    /// The Rollup's (its genesis accounts included).
    pub rollup: u64,
    /// All four.
    pub total: u64,
}

/// The deployed contracts.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Deployed {
    /// The Rollup contract.
    pub rollup: Address,
    /// The Plonky2Verifier the Rollup calls.
    pub verifier: Address,
    /// The WrapperGateEvaluator the verifier calls.
    pub gates: Address,
    /// The ERC-20 test token (L2 token 1) the Rollup escrows.
    pub token: Address,
    /// The owner and operator (the deploying key's address).
    pub operator: Address,
    /// Gas used by the deployments.
    pub gas: DeploymentGas,
}

/// A contract's creation bytecode from forge's build output
/// (`<artifacts>/<file>/<name>.json`, `bytecode.object`).
pub fn artifact_bytecode(artifacts: &Path, file: &str, name: &str) -> Result<Vec<u8>> {
    let path = artifacts.join(file).join(format!("{name}.json"));
    let config = |what: String| Error::Config(format!("forge artifact {}: {what}", path.display()));
    let bytes = std::fs::read(&path)
        .map_err(|e| config(format!("{e} (run `forge build` in contracts/)")))?;
    let artifact: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| config(e.to_string()))?;
    let hex = artifact["bytecode"]["object"]
        .as_str()
        .ok_or_else(|| config("no bytecode.object".into()))?;
    let code = alloy::hex::decode(hex).map_err(|e| config(e.to_string()))?;
    if code.is_empty() {
        return Err(config("empty bytecode (an abstract contract?)".into()));
    }
    Ok(code)
}

/// Sends one creation transaction and waits for its receipt: the address and gas used.
async fn create<P: Provider>(
    provider: &P,
    name: &str,
    mut code: Vec<u8>,
    args: &[u8],
    value: U256,
) -> Result<(Address, u64)> {
    code.extend_from_slice(args);
    let fail = |e: String| Error::Settlement(format!("deploying {name}: {e}"));
    let receipt = provider
        .send_transaction(
            TransactionRequest::default()
                .with_deploy_code(code)
                .with_value(value),
        )
        .await
        .map_err(|e| fail(e.to_string()))?
        .get_receipt()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !receipt.status() {
        return Err(fail(format!(
            "transaction {} reverted",
            receipt.transaction_hash
        )));
    }
    let address = receipt
        .contract_address
        .ok_or_else(|| fail("no contract address in the receipt".into()))?;
    Ok((address, receipt.gas_used))
}

/// Deploys the gate evaluator, the verifier, the test token and the Rollup (genesis root
/// and accounts from `genesis`, owner and operator the signer's address, the genesis ETH
/// sent along) on the L1 node at `l1_url`.
pub async fn deploy_contracts(
    l1_url: &str,
    signer: &PrivateKeySigner,
    genesis: &Genesis,
    artifacts: &Path,
) -> Result<Deployed> {
    let gates_code = artifact_bytecode(
        artifacts,
        "WrapperGateEvaluator.sol",
        "WrapperGateEvaluator",
    )?;
    let verifier_code = artifact_bytecode(artifacts, "Plonky2Verifier.sol", "Plonky2Verifier")?;
    let rollup_code = artifact_bytecode(artifacts, "Rollup.sol", "Rollup")?;
    let token_code = artifact_bytecode(artifacts, "TestToken.sol", "TestToken")?;
    let url = l1_url
        .parse()
        .map_err(|e| Error::Config(format!("L1 URL {l1_url}: {e}")))?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect_http(url);

    let none = U256::ZERO;
    let (gates, gates_gas) =
        create(&provider, "WrapperGateEvaluator", gates_code, &[], none).await?;
    let (verifier, verifier_gas) = create(
        &provider,
        "Plonky2Verifier",
        verifier_code,
        &gates.abi_encode(),
        none,
    )
    .await?;
    let (token, token_gas) = create(&provider, "TestToken", token_code, &[], none).await?;
    let narrow = |what: &str, value: u32| {
        u8::try_from(value).map_err(|_| Error::Config(format!("genesis {what} {value} exceeds u8")))
    };
    let operator = signer.address();
    // The constructor's arguments are ABI-encoded like a call's, minus the selector.
    let args = RollupConstructorCall {
        verifier,
        owner: operator,
        operator,
        genesisRoot: root_to_l1(&genesis.state_root),
        chainId: genesis.chain_id,
        treeDepth: narrow("tree depth", genesis.tree.depth())?,
        partitionBits: narrow("partition bits", genesis.tree.partition_bits())?,
        accounts: Bytes::from(genesis_accounts_blob(&genesis.accounts)),
        testToken: token,
    }
    .abi_encode();
    let supply: u128 = genesis.accounts.iter().map(|a| u128::from(a.balance)).sum();
    let escrow = U256::from(supply) * U256::from(L1_UNITS_PER_L2_UNIT);
    let (rollup, rollup_gas) = create(&provider, "Rollup", rollup_code, &args[4..], escrow).await?;
    Ok(Deployed {
        rollup,
        verifier,
        gates,
        token,
        operator,
        gas: DeploymentGas {
            gates: gates_gas,
            verifier: verifier_gas,
            token: token_gas,
            rollup: rollup_gas,
            total: gates_gas + verifier_gas + token_gas + rollup_gas,
        },
    })
}
