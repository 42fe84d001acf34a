//! Leaf updates: the unit of work of a chunk proof.

use crate::{
    deposit::Deposit, schnorr::PublicKey, token::Token, transfer::Transfer, withdrawal::Withdrawal,
};

/// One leaf update of a partition's execution. A transfer inside a partition is a debit
/// directly followed by its credit; a cross-partition transfer is a debit in the sender's
/// partition and a credit in the recipient's.
// Steps are built once per leaf update and read in order; boxing the larger variant would
// cost an allocation each for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The sender pays amount and fee and its nonce moves on (signature checked in circuit).
    Debit {
        /// Position of the transfer in the batch.
        position: u32,
        /// The transfer.
        transfer: Transfer,
        /// Global index of the sender's account.
        from_index: u64,
        /// The recipient's partition (the debiting partition for an internal transfer).
        to_partition: usize,
        /// Global index of the recipient's account (existing or created by the credit).
        to_index: u64,
    },
    /// The recipient receives the amount, its account created if it had none.
    Credit {
        /// Position of the transfer in the batch.
        position: u32,
        /// The recipient's key.
        to: PublicKey,
        /// Global index of the recipient's account.
        to_index: u64,
        /// The token credited.
        token: Token,
        /// Amount credited.
        amount: u64,
        /// Whether this credit creates the account (at the partition's next free index).
        created: bool,
        /// The sender's partition (this partition for an internal transfer).
        from_partition: usize,
    },
    /// A withdrawal's sender pays amount and fee; its record names the L1 recipient.
    Withdraw {
        /// Position of the withdrawal in the batch's transactions.
        position: u32,
        /// The withdrawal.
        withdrawal: Withdrawal,
        /// Global index of the sender's account.
        from_index: u64,
    },
    /// A deposit is credited, its account created if its key had none; its record ties it
    /// to the L1 queue.
    Deposit {
        /// The deposit's position in the batch's segment of the queue.
        offset: u16,
        /// The deposit.
        deposit: Deposit,
        /// Global index of the credited account.
        to_index: u64,
        /// Whether this credit creates the account.
        created: bool,
    },
}

impl Step {
    /// The global index of the leaf the step updates, and whether it creates it.
    pub fn leaf(&self) -> (u64, bool) {
        match *self {
            Step::Debit { from_index, .. } | Step::Withdraw { from_index, .. } => {
                (from_index, false)
            }
            Step::Credit {
                to_index, created, ..
            }
            | Step::Deposit {
                to_index, created, ..
            } => (to_index, created),
        }
    }

    /// Whether this step is the debit of a transfer inside its partition, which its credit
    /// must directly follow (in the same chunk).
    pub fn is_internal_debit(&self, partition: usize) -> bool {
        matches!(*self, Step::Debit { to_partition, .. } if to_partition == partition)
    }
}
