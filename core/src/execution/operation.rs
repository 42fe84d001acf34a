//! Splitting a batch into per-partition operation lists, and the message chains that tie
//! the two halves of a cross-partition transfer.

use plonky2::field::types::Field;

use crate::{
    account::partition_of_key,
    deposit::Deposit,
    field::{u64_to_limbs, F},
    hash::{hash_elements, Digest},
    schnorr::PublicKey,
    token::Token,
    transaction::Transaction,
    transfer::Transfer,
    tree::TreeConfig,
    withdrawal::Withdrawal,
};

/// One step of a partition's execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// A deposit from the L1 queue, credited in its key's partition before any transaction.
    Deposit {
        /// The deposit's position in the batch's segment of the queue.
        offset: u16,
        /// The deposit.
        deposit: Deposit,
    },
    /// A withdrawal: its sender's debit (L1 pays the recipient).
    Withdraw {
        /// Position of the withdrawal in the batch's transactions.
        position: u32,
        /// The withdrawal.
        withdrawal: Withdrawal,
    },
    /// A transfer whose sender and recipient are both in this partition.
    Transfer {
        /// Position of the transfer in the batch.
        position: u32,
        /// The transfer.
        transfer: Transfer,
    },
    /// The sender's half of a cross-partition transfer: debit, and a message to
    /// `to_partition` crediting `transfer.amount` to `transfer.to`.
    Send {
        /// Position of the transfer in the batch.
        position: u32,
        /// The transfer.
        transfer: Transfer,
        /// The recipient's partition.
        to_partition: usize,
    },
    /// The recipient's half: credit `amount` to `to` (creating its account if needed).
    Receive {
        /// Position of the transfer in the batch.
        position: u32,
        /// The recipient.
        to: PublicKey,
        /// The token credited.
        token: Token,
        /// The amount credited.
        amount: u64,
        /// The sender's partition.
        from_partition: usize,
    },
}

/// Splits a batch into one operation list per partition, each in batch order: the
/// deposits first (in queue order), then the transactions.
///
/// Panics if there are more than [`crate::deposit::MAX_DEPOSITS_PER_BATCH`] deposits (the
/// batcher never takes more).
pub fn split_batch(
    config: &TreeConfig,
    deposits: &[Deposit],
    transactions: &[Transaction],
) -> Vec<Vec<Operation>> {
    assert!(deposits.len() <= crate::deposit::MAX_DEPOSITS_PER_BATCH);
    let mut operations = vec![Vec::new(); config.num_partitions()];
    for (offset, deposit) in deposits.iter().enumerate() {
        operations[partition_of_key(&deposit.to, config)].push(Operation::Deposit {
            offset: offset as u16,
            deposit: *deposit,
        });
    }
    for (position, transaction) in transactions.iter().enumerate() {
        let position = position as u32;
        let transfer = match transaction {
            Transaction::Transfer(transfer) => transfer,
            Transaction::Withdrawal(withdrawal) => {
                operations[partition_of_key(&withdrawal.from, config)].push(Operation::Withdraw {
                    position,
                    withdrawal: *withdrawal,
                });
                continue;
            }
        };
        let from_partition = partition_of_key(&transfer.from, config);
        let to_partition = partition_of_key(&transfer.to, config);
        if from_partition == to_partition {
            operations[from_partition].push(Operation::Transfer {
                position,
                transfer: *transfer,
            });
        } else {
            operations[from_partition].push(Operation::Send {
                position,
                transfer: *transfer,
                to_partition,
            });
            operations[to_partition].push(Operation::Receive {
                position,
                to: transfer.to,
                token: transfer.token,
                amount: transfer.amount,
                from_partition,
            });
        }
    }
    operations
}

/// The number of field elements [`chain_step`] hashes.
pub const CHAIN_STEP_ELEMENTS: usize = 13;

/// Appends the message "credit `amount` of `token` to `to`, at global index `to_index`" to
/// a chain: Poseidon of chain (4) || to (5) || to_index (1) || amount (2 limbs) || token.
/// Chains start at [`Digest::ZERO`] each batch.
///
/// The index is part of the message so that the sender's chunk, which posts the
/// recipient's index in the calldata, is bound to the index the recipient's partition
/// actually credits (the restorer replays the calldata).
pub fn chain_step(
    chain: Digest,
    to: &PublicKey,
    to_index: u64,
    token: Token,
    amount: u64,
) -> Digest {
    let mut inputs = [F::ZERO; CHAIN_STEP_ELEMENTS];
    inputs[..4].copy_from_slice(&chain.elements());
    inputs[4..9].copy_from_slice(&to.encoding().to_fields());
    inputs[9] = F::from_canonical_u64(to_index);
    inputs[10..12].copy_from_slice(&u64_to_limbs(amount));
    inputs[12] = F::from_canonical_u64(token as u64);
    hash_elements(&inputs)
}
