//! Rebuilding the L2 state from L1 alone (`rollup restore`): the genesis accounts from the
//! Rollup's `Genesis` event, then every verified batch's calldata, replayed in order.
//!
//! Replaying needs no signatures, nonces or execution order: the validity proof of each
//! batch vouched that its transfers were valid in the order executed, so the restorer
//! only adds up their effects. A batch's new-account records give each new account's key
//! and index; its transfer records debit `amount + fee` from the sender (and count one
//! nonce) and credit `amount` to the recipient; fees leave L2 (the operator is paid on
//! L1). Balances after a batch are sums, which do not depend on the order of the records
//! (credits in one partition's chunk may come after the debit they fund in another's).
//! The rebuilt accounts then give the state root, which must equal the contract's.
//!
//! Where a batch's data is: the `data` argument of the `commitBatch` call of the
//! transaction that emitted its `BatchVerified` event, checked against the event's data
//! commitment. The settlement module calls the contract directly from its operator
//! account; a batch posted through another contract (a multisig, a batching contract)
//! would need the call found in a trace instead.

use std::collections::{btree_map::Entry, BTreeMap, HashMap};

use alloy::{
    consensus::Transaction as _,
    primitives::{Address, B256},
    providers::{Provider, RootProvider},
    rpc::types::Filter,
    sol_types::{SolCall, SolEvent},
};
use rollup_core::{
    account::Account,
    batch_data::{compact::expand, BatchData, DataCommitment, PUBLIC_KEY_BYTES},
    genesis::GenesisAccount,
    hash::Digest,
    schnorr::PublicKey,
    state::State,
    token::TOKENS,
    tree::TreeConfig,
};

use crate::{
    settlement::contract::{root_from_l1, root_to_l1, IRollup},
    Error, Result,
};

/// Bytes of one genesis account in the `Genesis` event: key, then u64 BE balance.
pub const GENESIS_ACCOUNT_BYTES: usize = PUBLIC_KEY_BYTES + 8;

/// Blocks per `eth_getLogs` request (nodes cap the range of one request).
const LOG_RANGE: u64 = 10_000;

fn invalid(reason: String) -> Error {
    Error::Restore(reason)
}

/// The genesis accounts of the `Genesis` event's blob, in creation order.
pub fn parse_genesis_accounts(blob: &[u8]) -> Result<Vec<GenesisAccount>> {
    let (records, rest) = blob.as_chunks::<GENESIS_ACCOUNT_BYTES>();
    if !rest.is_empty() {
        return Err(invalid(format!(
            "genesis accounts blob of {} bytes is not a whole number of {GENESIS_ACCOUNT_BYTES}-byte accounts",
            blob.len()
        )));
    }
    records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let (key, balance) = record.split_at(PUBLIC_KEY_BYTES);
            Ok(GenesisAccount {
                public_key: PublicKey::from_bytes(key)
                    .map_err(|e| invalid(format!("genesis account {i}: {e}")))?,
                balance: u64::from_be_bytes(balance.try_into().expect("8 bytes")),
            })
        })
        .collect()
}

/// The blob the `Genesis` event carries for these accounts (what a deployment passes to
/// the Rollup's constructor).
pub fn genesis_accounts_blob(accounts: &[GenesisAccount]) -> Vec<u8> {
    accounts
        .iter()
        .flat_map(|account| {
            let mut record = account.public_key.to_bytes().to_vec();
            record.extend_from_slice(&account.balance.to_be_bytes());
            record
        })
        .collect()
}

/// What one replayed batch paid and consumed, to check against its `BatchVerified` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Fees per token.
    pub fees: [u64; TOKENS],
    /// L1 deposits credited.
    pub deposits: u64,
}

/// The accounts by global index, replaying batches onto them.
#[derive(Clone, Debug)]
pub struct Replayer {
    config: TreeConfig,
    accounts: BTreeMap<u64, Account>,
    batches: u64,
}

impl Replayer {
    /// Starts from the genesis state of `accounts` in a tree of shape `config`.
    pub fn genesis(config: TreeConfig, accounts: &[GenesisAccount]) -> Result<Self> {
        let balances: Vec<_> = accounts.iter().map(|a| (a.public_key, a.balance)).collect();
        let state = State::genesis(config, &balances)?;
        let accounts = state
            .partitions()
            .iter()
            .flat_map(|partition| {
                partition
                    .accounts()
                    .iter()
                    .enumerate()
                    .map(|(local, account)| (partition.global_index(local as u64), *account))
            })
            .collect();
        Ok(Self {
            config,
            accounts,
            batches: 0,
        })
    }

    /// Batches replayed so far.
    pub fn batches(&self) -> u64 {
        self.batches
    }

    /// Applies one batch's calldata; returns the fees its operations paid, per token, and
    /// how many deposits it credited.
    /// Refuses data that could not have been proven (an unknown account, an index taken
    /// twice, a deposit to another key than the account's, a balance below zero after the
    /// batch): from a verified batch that means the data was read wrong.
    pub fn apply(&mut self, data: &[u8]) -> Result<Applied> {
        let batch = self.batches + 1;
        let decoded = BatchData::decode(data)?;
        for account in decoded.chunks.iter().flat_map(|c| &c.new_accounts) {
            let index = u64::from(account.index);
            self.config.check_index(index)?;
            match self.accounts.entry(index) {
                Entry::Occupied(_) => {
                    return Err(invalid(format!(
                        "batch {batch} creates account index {index}, which exists"
                    )))
                }
                Entry::Vacant(slot) => {
                    slot.insert(Account::new(account.public_key));
                }
            }
        }
        let exists = |index: u64| -> Result<()> {
            if !self.accounts.contains_key(&index) {
                return Err(invalid(format!(
                    "batch {batch} moves funds of account index {index}, which does not exist"
                )));
            }
            Ok(())
        };
        // Per account: balance change per token, and debits (nonce increments).
        let mut deltas: HashMap<u64, ([i128; TOKENS], u64)> = HashMap::new();
        let mut fees = [0u64; TOKENS];
        for deposit in decoded.chunks.iter().flat_map(|c| &c.deposits) {
            let index = u64::from(deposit.index);
            exists(index)?;
            if self.accounts[&index].public_key != deposit.public_key {
                return Err(invalid(format!(
                    "batch {batch} credits a deposit to {} at account index {index} of another key",
                    deposit.public_key
                )));
            }
            deltas.entry(index).or_default().0[deposit.token.index()] += i128::from(deposit.amount);
        }
        for transfer in decoded.chunks.iter().flat_map(|c| &c.transfers) {
            let token = transfer.token.index();
            let from = u64::from(transfer.from);
            exists(from)?;
            let sender = deltas.entry(from).or_default();
            sender.0[token] -= i128::from(transfer.amount) + i128::from(transfer.fee);
            sender.1 += 1;
            if !transfer.withdrawal {
                let to = u64::from(transfer.to);
                exists(to)?;
                deltas.entry(to).or_default().0[token] += i128::from(transfer.amount);
            }
            fees[token] = fees[token]
                .checked_add(transfer.fee)
                .ok_or_else(|| invalid(format!("batch {batch}'s fees overflow")))?;
        }
        for (index, (delta, debits)) in deltas {
            let account = self.accounts.get_mut(&index).expect("checked above");
            for (balance, delta) in account.balances.iter_mut().zip(delta) {
                *balance = u64::try_from(i128::from(*balance) + delta).map_err(|_| {
                    invalid(format!(
                        "batch {batch} leaves account index {index} with a balance out of range"
                    ))
                })?;
            }
            account.nonce = u64::from(account.nonce)
                .checked_add(debits)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    invalid(format!(
                        "batch {batch} overflows the nonce of account {index}"
                    ))
                })?;
        }
        self.batches = batch;
        Ok(Applied {
            fees,
            deposits: decoded.chunks.iter().map(|c| c.deposits.len() as u64).sum(),
        })
    }

    /// The state the replayed accounts give (its root is the L2 state root).
    pub fn state(&self) -> Result<State> {
        Ok(State::from_accounts(
            self.config,
            self.accounts.iter().map(|(i, a)| (*i, *a)).collect(),
        )?)
    }
}

/// What a restore found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Restored {
    /// The rebuilt state's root (the sequencer's encoding).
    pub state_root: Digest,
    /// The same root in the contract's encoding.
    pub l1_state_root: B256,
    /// The last batch replayed (the contract's `lastVerifiedBatch`).
    pub last_batch: u64,
    /// Accounts in the rebuilt state.
    pub accounts: u64,
    /// The L2 chain id of the deployment.
    pub l2_chain_id: u64,
}

fn l1(error: impl std::fmt::Display) -> Error {
    Error::L1(error.to_string())
}

/// Reads the genesis and every verified batch of the Rollup at `rollup` from the L1 node
/// at `l1_url`, replays them, and checks the rebuilt root against the contract's
/// `stateRoot()` (at the block the contract was read at, so batches posted meanwhile do
/// not race the check).
pub async fn restore_from_l1(l1_url: &str, rollup: Address) -> Result<Restored> {
    let url = l1_url
        .parse()
        .map_err(|e| Error::Config(format!("L1 URL {l1_url}: {e}")))?;
    let provider: RootProvider = RootProvider::new_http(url);
    let contract = IRollup::new(rollup, provider.clone());
    let head = provider.get_block_number().await.map_err(l1)?;
    let last_batch = contract
        .lastVerifiedBatch()
        .block(head.into())
        .call()
        .await
        .map_err(l1)?;
    let l1_root = contract
        .stateRoot()
        .block(head.into())
        .call()
        .await
        .map_err(l1)?;
    let genesis_block: u64 = contract
        .genesisBlock()
        .call()
        .await
        .map_err(l1)?
        .try_into()
        .map_err(|_| invalid("genesis block out of range".into()))?;
    let blob_hash = contract.genesisAccountsHash().call().await.map_err(l1)?;

    let filter = Filter::new()
        .address(rollup)
        .event_signature(IRollup::Genesis::SIGNATURE_HASH)
        .from_block(genesis_block)
        .to_block(genesis_block);
    let logs = provider.get_logs(&filter).await.map_err(l1)?;
    let [log] = logs.as_slice() else {
        return Err(invalid(format!(
            "expected one Genesis event in block {genesis_block}, found {}",
            logs.len()
        )));
    };
    let genesis = log
        .log_decode::<IRollup::Genesis>()
        .map_err(|e| invalid(format!("Genesis event: {e}")))?
        .inner
        .data;
    if alloy::primitives::keccak256(&genesis.accounts) != blob_hash {
        return Err(invalid(
            "the Genesis event's accounts do not hash to genesisAccountsHash()".into(),
        ));
    }
    let config = TreeConfig::new(
        u32::from(genesis.treeDepth),
        u32::from(genesis.partitionBits),
    )?;
    let accounts = parse_genesis_accounts(&genesis.accounts)?;
    let mut replayer = Replayer::genesis(config, &accounts)?;
    let genesis_root = replayer.state()?.root();
    if root_to_l1(&genesis_root) != genesis.stateRoot {
        return Err(invalid(format!(
            "the genesis accounts give root {genesis_root}, the contract started from {}",
            genesis.stateRoot
        )));
    }
    tracing::info!(
        target: "sequencer::restore",
        accounts = accounts.len(),
        root = %genesis_root,
        last_batch,
        "genesis read from L1"
    );

    let mut expected_root = genesis.stateRoot;
    let mut from = genesis_block;
    while from <= head && replayer.batches() < last_batch {
        let to = (from + LOG_RANGE - 1).min(head);
        let filter = Filter::new()
            .address(rollup)
            .event_signature(IRollup::BatchVerified::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        for log in provider.get_logs(&filter).await.map_err(l1)? {
            let tx_hash = log
                .transaction_hash
                .ok_or_else(|| invalid("a BatchVerified log without its transaction".into()))?;
            let event = log
                .log_decode::<IRollup::BatchVerified>()
                .map_err(|e| invalid(format!("BatchVerified event: {e}")))?
                .inner
                .data;
            let number = replayer.batches() + 1;
            if event.number != number || event.oldRoot != expected_root {
                return Err(invalid(format!(
                    "BatchVerified events out of sequence: expected batch {number} from root {expected_root}, got batch {} from {}",
                    event.number, event.oldRoot
                )));
            }
            let tx = provider
                .get_transaction_by_hash(tx_hash)
                .await
                .map_err(l1)?
                .ok_or_else(|| {
                    invalid(format!("transaction {tx_hash} of batch {number} not found"))
                })?;
            let call = IRollup::commitBatchCall::abi_decode(tx.input()).map_err(|e| {
                invalid(format!(
                    "transaction {tx_hash} of batch {number} is not a direct commitBatch call: {e}"
                ))
            })?;
            // The posted data is compact: the chunks come back padded, as they were proven.
            let data = expand(&call.data)?;
            if call.number != number
                || DataCommitment::of_calldata(&data)?.0 != event.dataCommitment.0
            {
                return Err(invalid(format!(
                    "the calldata of {tx_hash} does not match batch {number}'s event"
                )));
            }
            let applied = replayer.apply(&data)?;
            if applied.fees != [event.ethFees, event.tokenFees] {
                return Err(invalid(format!(
                    "batch {number}'s records pay {:?} in fees, its event says [{}, {}]",
                    applied.fees, event.ethFees, event.tokenFees
                )));
            }
            if applied.deposits != event.depositsConsumed {
                return Err(invalid(format!(
                    "batch {number}'s records credit {} deposits, its event says {}",
                    applied.deposits, event.depositsConsumed
                )));
            }
            expected_root = event.newRoot;
            if number == last_batch {
                break;
            }
        }
        from = to + 1;
    }
    if replayer.batches() != last_batch {
        return Err(invalid(format!(
            "found {} BatchVerified events, the contract has verified {last_batch} batches",
            replayer.batches()
        )));
    }
    let state = replayer.state()?;
    let state_root = state.root();
    if root_to_l1(&state_root) != l1_root || root_from_l1(&l1_root)? != state_root {
        return Err(invalid(format!(
            "the replayed state has root {state_root} ({}), the contract holds {l1_root}",
            root_to_l1(&state_root)
        )));
    }
    Ok(Restored {
        state_root,
        l1_state_root: l1_root,
        last_batch,
        accounts: state.account_count(),
        l2_chain_id: genesis.l2ChainId,
    })
}

#[cfg(test)]
mod tests;
