//! Chunk witnesses from a sealed batch and the state before it, one partition per task.

use std::{collections::HashMap, sync::OnceLock};

use rayon::prelude::*;
use rollup_core::{
    account::Account,
    batch_data::data_chain_step,
    deposit::Deposit,
    ecgfp5::{Gfp5, Scalar},
    execution::{BatchOutcome, Chunk, Step},
    field::F,
    hash::Digest,
    schnorr::SecretKey,
    state::State,
    token::{Token, TOKENS},
    transaction::{SignedTransaction, Transaction},
    transfer::Transfer,
    withdrawal::L1Address,
};

use serde::{Deserialize, Serialize};

use super::{
    chains_commitment, ChunkParams, Statement, CHUNK_DEPOSITS, CHUNK_NEW_ACCOUNTS, CHUNK_STEPS,
    CHUNK_TRANSFERS, CHUNK_WITHDRAWALS,
};
use crate::{Error, Result};

/// A signature unit's values.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UnitWitness {
    /// Whether a debit of the chunk uses the unit.
    pub active: bool,
    /// The transfer or withdrawal and its signature (a fixed dummy for an unused unit).
    pub signed: SignedTransaction,
    /// Global index of the sender.
    pub from_index: u64,
    /// Global index of the recipient (0 for a withdrawal).
    pub to_index: u64,
}

impl UnitWitness {
    /// Whether the unit's operation is a withdrawal.
    pub fn is_withdrawal(&self) -> bool {
        matches!(self.signed, SignedTransaction::Withdrawal(_))
    }

    /// The message's destination elements: the recipient's key, or the L1 address's words.
    pub fn destination(&self) -> [F; 5] {
        match self.signed.transaction() {
            Transaction::Transfer(transfer) => transfer.to.encoding().to_fields(),
            Transaction::Withdrawal(withdrawal) => withdrawal.recipient.to_fields(),
        }
    }
}

/// A deposit record's values.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct DepositWitness {
    /// Whether a deposit of the chunk uses the record.
    pub active: bool,
    /// The token deposited.
    pub token: Token,
    /// Its offset in the batch's segment of the L1 queue.
    pub offset: u16,
    /// Global index of the credited account.
    pub index: u64,
    /// The amount.
    pub amount: u64,
    /// The credited key's encoding.
    #[serde(with = "gfp5_serde")]
    pub key: Gfp5,
}

/// A withdrawal record's values.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct WithdrawalWitness {
    /// Whether a withdrawal of the chunk uses the record.
    pub active: bool,
    /// The token withdrawn.
    pub token: Token,
    /// The amount.
    pub amount: u64,
    /// Who L1 pays.
    pub recipient: L1Address,
}

/// A new-account unit's values.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct NewAccountWitness {
    /// Whether a creation of the chunk uses the unit.
    pub active: bool,
    /// Global index of the created account.
    pub index: u64,
    /// Its key's encoding.
    #[serde(with = "gfp5_serde")]
    pub key: Gfp5,
}

/// A slot's values: the step and the leaf before it with its Merkle path.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SlotWitness {
    /// A debit step.
    pub debit: bool,
    /// A credit step.
    pub credit: bool,
    /// A step of a transfer inside the partition.
    pub internal: bool,
    /// A credit that creates the account.
    pub created: bool,
    /// A credit of a deposit.
    pub deposit: bool,
    /// The token moved.
    pub token: Token,
    /// The unit of the step's transfer.
    pub unit: usize,
    /// The new-account unit of a creation.
    pub new_account: usize,
    /// The deposit record of a deposit.
    pub deposit_record: usize,
    /// The other partition of a cross-partition half.
    pub counterpart: usize,
    /// The account's index inside the partition.
    pub local_index: u64,
    /// The account's key.
    #[serde(with = "gfp5_serde")]
    pub key: Gfp5,
    /// The balances before.
    pub balances: [u64; TOKENS],
    /// The nonce before.
    pub nonce: u32,
    /// The amount moved.
    pub amount: u64,
    /// The Merkle path of the leaf in the partition subtree, leaf to root.
    pub siblings: Vec<Digest>,
}

/// Everything the chunk circuit needs for one chunk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChunkWitness {
    /// What the proof states.
    pub statement: Statement,
    /// The partition's chains at the start of the chunk (sent, then received).
    pub chains_before: Vec<Digest>,
    /// [`CHUNK_TRANSFERS`] units.
    pub units: Vec<UnitWitness>,
    /// [`CHUNK_NEW_ACCOUNTS`] units.
    pub new_accounts: Vec<NewAccountWitness>,
    /// [`CHUNK_DEPOSITS`] records.
    pub deposits: Vec<DepositWitness>,
    /// [`CHUNK_WITHDRAWALS`] records.
    pub withdrawals: Vec<WithdrawalWitness>,
    /// [`CHUNK_STEPS`] slots.
    pub slots: Vec<SlotWitness>,
}

/// The witnesses of a whole batch, and what the top of the proof tree checks.
#[derive(Clone, Debug)]
pub struct BatchWitness {
    /// The executed batch.
    pub outcome: BatchOutcome,
    /// Chunk witnesses in (partition, chunk) order, the data chain's order.
    pub chunks: Vec<ChunkWitness>,
    /// `chains[p]`: partition p's final sent then received chains (zero if untouched).
    pub chains: Vec<Vec<Digest>>,
    /// The batch's calldata.
    pub calldata: Vec<u8>,
    /// The data commitment (the last data chain value).
    pub data_commitment: [u8; 32],
}

/// The fixed valid signature that unused units verify.
fn dummy_unit(chain_id: u64) -> UnitWitness {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        SecretKey::from_scalar(Scalar::from_u64(0x0d0d_0d0d)).expect("nonzero scalar")
    });
    let transfer = Transfer {
        chain_id,
        from: key.public_key(),
        to: key.public_key(),
        amount: 0,
        fee: 0,
        nonce: 0,
        token: Token::Eth,
    };
    UnitWitness {
        active: false,
        signed: transfer.sign(key).into(),
        from_index: 0,
        to_index: 0,
    }
}

impl BatchWitness {
    /// Executes the batch (`deposits`, then `transactions`) on a copy of `state` (the state
    /// the batch starts from) and builds every chunk's witness, partitions in parallel. The
    /// batch must be what the sequencer sealed: valid in order, with its signatures.
    pub fn generate(
        params: &ChunkParams,
        state: &State,
        deposits: &[Deposit],
        transactions: &[SignedTransaction],
    ) -> Result<Self> {
        let mut after = state.clone();
        Self::generate_advancing(params, &mut after, deposits, transactions)
    }

    /// [`Self::generate`] that leaves `state` after the batch (a prover's own copy of the
    /// state follows the batches it proves). On error `state` is unchanged.
    pub fn generate_advancing(
        params: &ChunkParams,
        state: &mut State,
        deposits: &[Deposit],
        transactions: &[SignedTransaction],
    ) -> Result<Self> {
        if state.config() != params.tree {
            return Err(Error::Witness(
                "the state's tree shape differs from the circuit's".into(),
            ));
        }
        let before = state.clone();
        let plain: Vec<Transaction> = transactions.iter().map(|t| t.transaction()).collect();
        let outcome = state.execute(deposits, &plain)?;
        let state = &before;
        let partitions = params.tree.num_partitions();
        let chunks = outcome.chunks();

        let mut by_partition: Vec<Vec<&Chunk>> = vec![Vec::new(); partitions];
        for chunk in &chunks {
            by_partition[chunk.partition].push(chunk);
        }
        let per_partition: Vec<(Vec<ChunkWitness>, Vec<Digest>)> = by_partition
            .par_iter()
            .enumerate()
            .map(|(partition, chunks)| {
                partition_witnesses(params, state, partition, chunks, transactions)
            })
            .collect::<Result<_>>()?;

        // The data chain runs through every chunk in order.
        let mut data = [0u8; 32];
        let mut calldata = vec![rollup_core::batch_data::BATCH_DATA_VERSION];
        let mut witnesses = Vec::with_capacity(chunks.len());
        let mut chains = Vec::with_capacity(partitions);
        for ((mut partition_chunks, final_chains), chunks) in
            per_partition.into_iter().zip(&by_partition)
        {
            for (witness, chunk) in partition_chunks.iter_mut().zip(chunks) {
                let bytes = chunk.data()?.encode()?;
                witness.statement.data_before = data;
                data = data_chain_step(&data, &bytes);
                witness.statement.data_after = data;
                calldata.extend_from_slice(&bytes);
            }
            witnesses.extend(partition_chunks);
            chains.push(final_chains);
        }
        Ok(Self {
            outcome,
            chunks: witnesses,
            chains,
            calldata,
            data_commitment: data,
        })
    }
}

/// One partition's chunk witnesses (data chain left to the caller) and its final chains.
fn partition_witnesses(
    params: &ChunkParams,
    state: &State,
    partition: usize,
    chunks: &[&Chunk],
    transactions: &[SignedTransaction],
) -> Result<(Vec<ChunkWitness>, Vec<Digest>)> {
    let partitions = params.tree.num_partitions();
    let mut chains = vec![Digest::ZERO; 2 * partitions];
    if chunks.is_empty() {
        return Ok((Vec::new(), chains));
    }
    let base = &state.partitions()[partition];
    let mut tree = state.tree().partition(partition)?.clone();
    let mut accounts: HashMap<u64, Account> = HashMap::new();
    let local_of = |index: u64| params.tree.local_index(index);
    let mut witnesses = Vec::with_capacity(chunks.len());

    for chunk in chunks {
        let old_root = tree.root();
        let chains_before = chains.clone();
        let mut units = Vec::with_capacity(CHUNK_TRANSFERS);
        let mut new_accounts = Vec::with_capacity(CHUNK_NEW_ACCOUNTS);
        let mut deposits = Vec::with_capacity(CHUNK_DEPOSITS);
        let mut withdrawals = Vec::with_capacity(CHUNK_WITHDRAWALS);
        let mut slots = Vec::with_capacity(CHUNK_STEPS);
        let mut fees = [0u64; TOKENS];
        for step in &chunk.steps {
            let (index, created) = step.leaf();
            let local = local_of(index);
            let before = match accounts.get(&local) {
                Some(account) => *account,
                None if created => match step {
                    Step::Credit { to, .. } => Account::new(*to),
                    Step::Deposit { deposit, .. } => Account::new(deposit.to),
                    Step::Debit { .. } | Step::Withdraw { .. } => {
                        unreachable!("debits never create")
                    }
                },
                None => *base.account(local).ok_or_else(|| {
                    Error::Witness(format!("no account at index {index} before the batch"))
                })?,
            };
            let siblings = tree.prove(local)?.siblings;
            let mut slot = SlotWitness {
                debit: false,
                credit: false,
                internal: false,
                created,
                deposit: false,
                token: Token::Eth,
                unit: units.len().saturating_sub(1),
                new_account: new_accounts.len().min(CHUNK_NEW_ACCOUNTS - 1),
                deposit_record: deposits.len().min(CHUNK_DEPOSITS - 1),
                counterpart: 0,
                local_index: local,
                key: before.public_key.encoding(),
                balances: before.balances,
                nonce: before.nonce,
                amount: 0,
                siblings,
            };
            if created {
                slot.new_account = new_accounts.len();
                new_accounts.push(NewAccountWitness {
                    active: true,
                    index,
                    key: before.public_key.encoding(),
                });
            }
            let signed_at = |position: u32, expected: Transaction| -> Result<SignedTransaction> {
                let signed = transactions.get(position as usize).ok_or_else(|| {
                    Error::Witness(format!("no signed transaction at position {position}"))
                })?;
                if signed.transaction() != expected {
                    return Err(Error::Witness(format!(
                        "the signed transaction at position {position} differs"
                    )));
                }
                Ok(*signed)
            };
            let after = match *step {
                Step::Debit {
                    position,
                    transfer,
                    from_index,
                    to_partition,
                    to_index,
                } => {
                    let signed = signed_at(position, transfer.into())?;
                    slot.debit = true;
                    slot.token = transfer.token;
                    slot.internal = to_partition == partition;
                    slot.unit = units.len();
                    slot.counterpart = if slot.internal { 0 } else { to_partition };
                    slot.amount = transfer.amount;
                    fees[transfer.token.index()] += transfer.fee;
                    units.push(UnitWitness {
                        active: true,
                        signed,
                        from_index,
                        to_index,
                    });
                    if !slot.internal {
                        let chain = &mut chains[to_partition];
                        *chain = rollup_core::execution::chain_step(
                            *chain,
                            &transfer.to,
                            to_index,
                            transfer.token,
                            transfer.amount,
                        );
                    }
                    before.debited(&transfer.payment())?
                }
                Step::Withdraw {
                    position,
                    withdrawal,
                    from_index,
                } => {
                    let signed = signed_at(position, withdrawal.into())?;
                    slot.debit = true;
                    slot.token = withdrawal.token;
                    slot.unit = units.len();
                    slot.amount = withdrawal.amount;
                    fees[withdrawal.token.index()] += withdrawal.fee;
                    units.push(UnitWitness {
                        active: true,
                        signed,
                        from_index,
                        to_index: 0,
                    });
                    withdrawals.push(WithdrawalWitness {
                        active: true,
                        token: withdrawal.token,
                        amount: withdrawal.amount,
                        recipient: withdrawal.recipient,
                    });
                    before.debited(&withdrawal.payment())?
                }
                Step::Credit {
                    to,
                    to_index,
                    token,
                    amount,
                    from_partition,
                    ..
                } => {
                    slot.credit = true;
                    slot.token = token;
                    slot.internal = from_partition == partition;
                    slot.counterpart = if slot.internal { 0 } else { from_partition };
                    slot.amount = amount;
                    if !slot.internal {
                        let chain = &mut chains[partitions + from_partition];
                        *chain = rollup_core::execution::chain_step(
                            *chain, &to, to_index, token, amount,
                        );
                    }
                    before.credited(token, amount)?
                }
                Step::Deposit {
                    offset,
                    deposit,
                    to_index,
                    ..
                } => {
                    slot.credit = true;
                    slot.deposit = true;
                    slot.token = deposit.token;
                    slot.amount = deposit.amount;
                    slot.deposit_record = deposits.len();
                    deposits.push(DepositWitness {
                        active: true,
                        token: deposit.token,
                        offset,
                        index: to_index,
                        amount: deposit.amount,
                        key: deposit.to.encoding(),
                    });
                    before.credited(deposit.token, deposit.amount)?
                }
            };
            accounts.insert(local, after);
            tree.set_leaf(local, after.leaf())?;
            slots.push(slot);
        }
        let dummy = dummy_unit(params.chain_id);
        units.resize(CHUNK_TRANSFERS, dummy);
        new_accounts.resize(
            CHUNK_NEW_ACCOUNTS,
            NewAccountWitness {
                active: false,
                index: 0,
                key: Gfp5::ZERO,
            },
        );
        deposits.resize(
            CHUNK_DEPOSITS,
            DepositWitness {
                active: false,
                token: Token::Eth,
                offset: 0,
                index: 0,
                amount: 0,
                key: Gfp5::ZERO,
            },
        );
        withdrawals.resize(
            CHUNK_WITHDRAWALS,
            WithdrawalWitness {
                active: false,
                token: Token::Eth,
                amount: 0,
                recipient: L1Address::default(),
            },
        );
        slots.resize(CHUNK_STEPS, empty_slot(params));
        witnesses.push(ChunkWitness {
            statement: Statement {
                partition,
                old_root,
                new_root: tree.root(),
                chains_before: chains_commitment(
                    &chains_before[..partitions],
                    &chains_before[partitions..],
                ),
                chains_after: chains_commitment(&chains[..partitions], &chains[partitions..]),
                data_before: [0; 32],
                data_after: [0; 32],
                fees,
            },
            chains_before,
            units,
            new_accounts,
            deposits,
            withdrawals,
            slots,
        });
    }
    Ok((witnesses, chains))
}

/// A slot with no step (its path is never checked).
fn empty_slot(params: &ChunkParams) -> SlotWitness {
    SlotWitness {
        debit: false,
        credit: false,
        internal: false,
        created: false,
        deposit: false,
        token: Token::Eth,
        unit: 0,
        new_account: 0,
        deposit_record: 0,
        counterpart: 0,
        local_index: 0,
        key: Gfp5::ZERO,
        balances: [0; TOKENS],
        nonce: 0,
        amount: 0,
        siblings: vec![Digest::ZERO; params.tree.partition_depth() as usize],
    }
}

/// GF(p^5) elements in job inputs: their five canonical words.
mod gfp5_serde {
    use plonky2::field::types::{Field, Field64, PrimeField64};
    use rollup_core::{ecgfp5::Gfp5, field::F};
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Gfp5, serializer: S) -> Result<S::Ok, S::Error> {
        value
            .to_fields()
            .map(|x| x.to_canonical_u64())
            .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Gfp5, D::Error> {
        let words = <[u64; 5]>::deserialize(deserializer)?;
        if words.iter().any(|&w| w >= F::ORDER) {
            return Err(D::Error::custom("a GF(p^5) word above the field order"));
        }
        Ok(Gfp5::from_fields(words.map(F::from_canonical_u64)))
    }
}
