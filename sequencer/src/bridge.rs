//! A user's L1 side of the rollup: deposits into the Rollup contract's queue (ETH, or the
//! test token after an approval) and claims of what withdrawals and fees credited. The
//! L2 side of a withdrawal is a signed operation sent to the sequencer
//! ([`crate::wallet::sign_withdrawal`]).

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes, B256, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use rollup_core::{
    schnorr::PublicKey,
    token::{Token, L1_UNITS_PER_L2_UNIT},
};
use serde::Serialize;

use crate::{settlement::contract::IRollup, Error, Result};

alloy::sol! {
    /// The test token's surface a depositor uses (`contracts/src/TestToken.sol`).
    #[sol(rpc)]
    interface ITestToken {
        function mint(address to, uint256 amount) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function balanceOf(address account) external view returns (uint256);
    }
}

/// A deposit that L1 queued.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Deposited {
    /// Its index in the queue (the order batches consume it in).
    pub index: u64,
    /// The queue head after it.
    pub queue_head: B256,
    /// The deposit transaction.
    pub tx_hash: B256,
    /// Its gas.
    pub gas_used: u64,
}

/// A claim L1 paid.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Claimed {
    /// What it paid, in L1 units (wei, or the token's smallest unit).
    pub amount: U256,
    /// The claim transaction.
    pub tx_hash: B256,
    /// Its gas.
    pub gas_used: u64,
}

fn l1(error: impl std::fmt::Display) -> Error {
    Error::L1(error.to_string())
}

/// A provider signing with `signer`.
fn provider(l1_url: &str, signer: &PrivateKeySigner) -> Result<impl Provider> {
    let url = l1_url
        .parse()
        .map_err(|e| Error::Config(format!("L1 URL {l1_url}: {e}")))?;
    Ok(ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect_http(url))
}

/// Sends a call and waits for its receipt, refusing a revert.
async fn send(
    provider: &impl Provider,
    to: Address,
    input: Vec<u8>,
    value: U256,
    what: &str,
) -> Result<TransactionReceipt> {
    let receipt = provider
        .send_transaction(
            TransactionRequest::default()
                .with_to(to)
                .with_input(input)
                .with_value(value),
        )
        .await
        .map_err(|e| Error::L1(format!("{what}: {e}")))?
        .get_receipt()
        .await
        .map_err(|e| Error::L1(format!("{what}: {e}")))?;
    if !receipt.status() {
        return Err(Error::L1(format!(
            "{what}: transaction {} reverted",
            receipt.transaction_hash
        )));
    }
    Ok(receipt)
}

/// Deposits `amount` L2 units of `token` for the L2 account of `to` from the L1 account of
/// `signer`. For the test token it approves the Rollup first, minting the tokens first if
/// `mint` (the devnet's faucet). Returns the queued deposit.
pub async fn deposit(
    l1_url: &str,
    rollup: Address,
    signer: &PrivateKeySigner,
    to: &PublicKey,
    token: Token,
    amount: u64,
    mint: bool,
) -> Result<Deposited> {
    let provider = provider(l1_url, signer)?;
    let key = Bytes::from(to.to_bytes().to_vec());
    let l1_amount = U256::from(amount) * U256::from(L1_UNITS_PER_L2_UNIT);
    let receipt = match token {
        Token::Eth => {
            let call = IRollup::depositCall { key };
            send(&provider, rollup, call.abi_encode(), l1_amount, "deposit").await?
        }
        Token::TestToken => {
            let token_address = IRollup::new(rollup, &provider)
                .testToken()
                .call()
                .await
                .map_err(l1)?;
            if mint {
                let call = ITestToken::mintCall {
                    to: signer.address(),
                    amount: l1_amount,
                };
                send(
                    &provider,
                    token_address,
                    call.abi_encode(),
                    U256::ZERO,
                    "mint",
                )
                .await?;
            }
            let approve = ITestToken::approveCall {
                spender: rollup,
                amount: l1_amount,
            };
            send(
                &provider,
                token_address,
                approve.abi_encode(),
                U256::ZERO,
                "approve",
            )
            .await?;
            let call = IRollup::depositTokenCall { key, amount };
            send(
                &provider,
                rollup,
                call.abi_encode(),
                U256::ZERO,
                "depositToken",
            )
            .await?
        }
    };
    let event = receipt
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<IRollup::Deposit>().ok())
        .ok_or_else(|| Error::L1("the deposit emitted no Deposit event".into()))?
        .inner
        .data;
    Ok(Deposited {
        index: event.index,
        queue_head: event.queueHead,
        tx_hash: receipt.transaction_hash,
        gas_used: receipt.gas_used,
    })
}

/// Claims everything the Rollup holds for `signer`'s L1 address in `token` (withdrawals
/// and, for an operator, fees).
pub async fn claim(
    l1_url: &str,
    rollup: Address,
    signer: &PrivateKeySigner,
    token: Token,
) -> Result<Claimed> {
    let provider = provider(l1_url, signer)?;
    let call = IRollup::claimCall {
        token: u8::from(token),
    };
    let receipt = send(&provider, rollup, call.abi_encode(), U256::ZERO, "claim").await?;
    let event = receipt
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<IRollup::Claimed>().ok())
        .ok_or_else(|| Error::L1("the claim emitted no Claimed event".into()))?
        .inner
        .data;
    Ok(Claimed {
        amount: event.amount,
        tx_hash: receipt.transaction_hash,
        gas_used: receipt.gas_used,
    })
}

/// What the Rollup holds for `account` in `token`, in L1 units.
pub async fn pending_balance(
    l1_url: &str,
    rollup: Address,
    account: Address,
    token: Token,
) -> Result<U256> {
    let url = l1_url
        .parse()
        .map_err(|e| Error::Config(format!("L1 URL {l1_url}: {e}")))?;
    let provider: alloy::providers::RootProvider = alloy::providers::RootProvider::new_http(url);
    IRollup::new(rollup, provider)
        .pendingBalance(u8::from(token), account)
        .call()
        .await
        .map_err(l1)
}
