//! Cutting a partition's steps into chunks, the fixed-capacity units that one chunk proof
//! covers and that the calldata posts (batch data v2).

use super::Step;
use crate::{
    batch_data::{
        ChunkData, DepositRecord, NewAccountRecord, TransferRecord, WithdrawalRecord,
        CHUNK_DEPOSITS, CHUNK_NEW_ACCOUNTS, CHUNK_TRANSFERS, CHUNK_WITHDRAWALS,
    },
    Error, Result,
};

/// Leaf updates per chunk: two per transfer inside a partition, one per half of a
/// cross-partition transfer. Twice [`CHUNK_TRANSFERS`], so that a chunk of internal
/// transfers fills its signatures and its slots together.
pub const CHUNK_STEPS: usize = 2 * CHUNK_TRANSFERS;

/// One chunk of a partition's steps, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The partition the steps belong to.
    pub partition: usize,
    /// At most [`CHUNK_STEPS`] steps, with at most [`CHUNK_TRANSFERS`] debits (transfers
    /// and withdrawals), [`CHUNK_NEW_ACCOUNTS`] account creations, [`CHUNK_DEPOSITS`]
    /// deposits and [`CHUNK_WITHDRAWALS`] withdrawals; an internal debit's credit is in the
    /// same chunk.
    pub steps: Vec<Step>,
}

/// Cuts `steps` (one partition's, in order) into chunks greedily: a chunk takes steps
/// until one more would exceed a capacity. An empty list gives no chunk.
pub fn plan_chunks(partition: usize, steps: &[Step]) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut current = Usage::default();
    let mut start = 0;
    let mut i = 0;
    while i < steps.len() {
        // An internal transfer's debit and credit go together.
        let group = if steps[i].is_internal_debit(partition) {
            2
        } else {
            1
        };
        let needed = Usage::of(&steps[i..(i + group).min(steps.len())]);
        if !current.plus(&needed).fits() {
            chunks.push(Chunk {
                partition,
                steps: steps[start..i].to_vec(),
            });
            start = i;
            current = Usage::default();
        }
        current = current.plus(&needed);
        i += group;
    }
    if start < steps.len() {
        chunks.push(Chunk {
            partition,
            steps: steps[start..].to_vec(),
        });
    }
    chunks
}

/// What a run of steps takes of a chunk's capacities.
#[derive(Clone, Copy, Default)]
struct Usage {
    steps: usize,
    debits: usize,
    created: usize,
    deposits: usize,
    withdrawals: usize,
}

impl Usage {
    fn of(steps: &[Step]) -> Self {
        let mut usage = Self::default();
        for step in steps {
            usage.steps += 1;
            usage.created += usize::from(step.leaf().1);
            match step {
                Step::Debit { .. } => usage.debits += 1,
                Step::Withdraw { .. } => {
                    usage.debits += 1;
                    usage.withdrawals += 1;
                }
                Step::Deposit { .. } => usage.deposits += 1,
                Step::Credit { .. } => {}
            }
        }
        usage
    }

    fn plus(&self, other: &Self) -> Self {
        Self {
            steps: self.steps + other.steps,
            debits: self.debits + other.debits,
            created: self.created + other.created,
            deposits: self.deposits + other.deposits,
            withdrawals: self.withdrawals + other.withdrawals,
        }
    }

    fn fits(&self) -> bool {
        self.steps <= CHUNK_STEPS
            && self.debits <= CHUNK_TRANSFERS
            && self.created <= CHUNK_NEW_ACCOUNTS
            && self.deposits <= CHUNK_DEPOSITS
            && self.withdrawals <= CHUNK_WITHDRAWALS
    }
}

impl Chunk {
    /// What the chunk posts: a record per debit, the key of every account it creates, a
    /// record per deposit and the payout of every withdrawal.
    pub fn data(&self) -> Result<ChunkData> {
        // Batch data is only made for trees of depth <= 32 (see `batch_data`).
        let index = |index: u64| {
            u32::try_from(index).map_err(|_| Error::LeafIndexOutOfRange { index, depth: 32 })
        };
        let mut data = ChunkData::default();
        for step in &self.steps {
            match *step {
                Step::Debit {
                    transfer,
                    from_index,
                    to_index,
                    ..
                } => data.transfers.push(TransferRecord {
                    token: transfer.token,
                    withdrawal: false,
                    from: index(from_index)?,
                    to: index(to_index)?,
                    amount: transfer.amount,
                    fee: transfer.fee,
                }),
                Step::Withdraw {
                    withdrawal,
                    from_index,
                    ..
                } => {
                    data.transfers.push(TransferRecord {
                        token: withdrawal.token,
                        withdrawal: true,
                        from: index(from_index)?,
                        to: 0,
                        amount: withdrawal.amount,
                        fee: withdrawal.fee,
                    });
                    data.withdrawals.push(WithdrawalRecord {
                        token: withdrawal.token,
                        amount: withdrawal.amount,
                        recipient: withdrawal.recipient,
                    });
                }
                Step::Deposit {
                    offset,
                    deposit,
                    to_index,
                    ..
                } => data.deposits.push(DepositRecord {
                    token: deposit.token,
                    offset,
                    index: index(to_index)?,
                    amount: deposit.amount,
                    public_key: deposit.to,
                }),
                Step::Credit { .. } => {}
            }
            if let (leaf, true) = step.leaf() {
                let public_key = match *step {
                    Step::Credit { to, .. } => to,
                    Step::Deposit { deposit, .. } => deposit.to,
                    Step::Debit { .. } | Step::Withdraw { .. } => {
                        unreachable!("debits never create")
                    }
                };
                data.new_accounts.push(NewAccountRecord {
                    index: index(leaf)?,
                    public_key,
                });
            }
        }
        Ok(data)
    }
}
