//! Splitting a batch into per-partition operation lists, and the message chains that tie
//! the two halves of a cross-partition transfer.

use plonky2::field::types::Field;

use crate::{
    account::partition_of_key,
    field::{u64_to_limbs, F},
    hash::{hash_elements, Digest},
    schnorr::PublicKey,
    transfer::Transfer,
    tree::TreeConfig,
};

/// One step of a partition's execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
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
        /// The amount credited.
        amount: u64,
        /// The sender's partition.
        from_partition: usize,
    },
}

/// Splits a batch into one operation list per partition, each in batch order.
pub fn split_batch(config: &TreeConfig, transfers: &[Transfer]) -> Vec<Vec<Operation>> {
    let mut operations = vec![Vec::new(); config.num_partitions()];
    for (position, transfer) in transfers.iter().enumerate() {
        let position = position as u32;
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
                amount: transfer.amount,
                from_partition,
            });
        }
    }
    operations
}

/// The number of field elements [`chain_step`] hashes.
pub const CHAIN_STEP_ELEMENTS: usize = 12;

/// Appends the message "credit `amount` to `to`, at global index `to_index`" to a chain:
/// Poseidon of chain (4) || to (5) || to_index (1) || amount (2 limbs). Chains start at
/// [`Digest::ZERO`] each batch.
///
/// The index is part of the message so that the sender's chunk, which posts the
/// recipient's index in the calldata, is bound to the index the recipient's partition
/// actually credits (the restorer replays the calldata).
pub fn chain_step(chain: Digest, to: &PublicKey, to_index: u64, amount: u64) -> Digest {
    let mut inputs = [F::ZERO; CHAIN_STEP_ELEMENTS];
    inputs[..4].copy_from_slice(&chain.elements());
    inputs[4..9].copy_from_slice(&to.encoding().to_fields());
    inputs[9] = F::from_canonical_u64(to_index);
    inputs[10..].copy_from_slice(&u64_to_limbs(amount));
    hash_elements(&inputs)
}
