//! Executing a whole batch: partitions in parallel, then the state tree.

use rayon::prelude::*;

use super::{plan_chunks, split_batch, Chunk, PartitionOutcome, Recipients, Step};
use crate::{
    account::Account,
    deposit::{Deposit, MAX_DEPOSITS_PER_BATCH},
    hash::Digest,
    schnorr::PublicKey,
    state::State,
    token::TOKENS,
    transaction::Transaction,
    transfer::Transfer,
    Error, Result,
};

/// The result of executing a batch: what the sequencer stores and the prover proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchOutcome {
    /// The state root before the batch.
    pub old_root: Digest,
    /// The state root after the batch.
    pub new_root: Digest,
    /// Every partition's root after the batch.
    pub partition_roots: Vec<Digest>,
    /// The final state of every account the batch touched, by global index.
    pub accounts: Vec<(u64, Account)>,
    /// The accounts the batch created, by global index (ascending).
    pub created: Vec<(u64, PublicKey)>,
    /// `sent_chains[a][b]`: the chain of messages partition `a` sent to partition `b`
    /// (equal to what `b` received from `a`).
    pub sent_chains: Vec<Vec<Digest>>,
    /// The total fee per token, paid out to the operator on L1.
    pub fees: [u64; TOKENS],
    /// The number of L1 deposits the batch consumed (the next ones of the queue).
    pub deposits: usize,
    /// Every partition's leaf updates, in order (what the chunk proofs prove).
    pub steps: Vec<Vec<Step>>,
}

impl BatchOutcome {
    /// The batch's chunks in (partition, chunk) order: the calldata's order and the
    /// order of the data chain.
    pub fn chunks(&self) -> Vec<Chunk> {
        self.steps
            .iter()
            .enumerate()
            .flat_map(|(partition, steps)| plan_chunks(partition, steps))
            .collect()
    }
}

impl State {
    /// Executes a batch of transfers only (no deposits, no withdrawals): see
    /// [`Self::execute`].
    pub fn execute_batch(&mut self, transfers: &[Transfer]) -> Result<BatchOutcome> {
        let transactions: Vec<Transaction> = transfers.iter().copied().map(Into::into).collect();
        self.execute(&[], &transactions)
    }

    /// Executes a batch, one partition per task, and returns what changed: `deposits` (the
    /// next ones of the L1 queue, consecutive) first, then `transactions` in order.
    ///
    /// Signatures are not checked here (see
    /// [`crate::transaction::SignedTransaction::verify`]). If any operation is invalid in
    /// order, or the partitions' messages disagree, it fails and the state is left
    /// untouched.
    pub fn execute(
        &mut self,
        deposits: &[Deposit],
        transactions: &[Transaction],
    ) -> Result<BatchOutcome> {
        let config = self.config();
        let partitions = config.num_partitions();
        let old_root = self.root();
        if deposits.len() > MAX_DEPOSITS_PER_BATCH {
            return Err(Error::TooManyDeposits {
                count: deposits.len(),
            });
        }
        for pair in deposits.windows(2) {
            if pair[1].index != pair[0].index + 1 {
                return Err(Error::DepositOutOfOrder {
                    expected: pair[0].index + 1,
                    got: pair[1].index,
                });
            }
        }
        let operations = split_batch(&config, deposits, transactions);

        let recipients: Vec<Recipients> = self
            .partitions()
            .par_iter()
            .zip(operations.par_iter())
            .map(|(partition, operations)| partition.recipients(operations))
            .collect();
        let outcomes: Vec<PartitionOutcome> = self
            .partitions()
            .par_iter()
            .zip(operations.par_iter())
            .map(|(partition, operations)| partition.execute(operations, &recipients))
            .collect::<Result<_>>()?;
        for from in 0..partitions {
            for to in 0..partitions {
                if outcomes[from].sent[to] != outcomes[to].received[from] {
                    return Err(Error::MessageChainMismatch { from, to });
                }
            }
        }

        let mut fees = [0u64; TOKENS];
        for outcome in &outcomes {
            for (total, fee) in fees.iter_mut().zip(outcome.fees) {
                *total = total.checked_add(fee).ok_or(Error::AmountOverflow)?;
            }
        }

        self.partitions_mut()
            .par_iter_mut()
            .zip(outcomes.par_iter())
            .try_for_each(|(partition, outcome)| partition.commit(outcome))?;

        let mut accounts = Vec::new();
        let mut created = Vec::new();
        for (partition, outcome) in self.partitions().iter().zip(&outcomes) {
            let first_created = partition.len() - outcome.created.len() as u64;
            for (offset, key) in outcome.created.iter().enumerate() {
                created.push((partition.global_index(first_created + offset as u64), *key));
            }
            accounts.extend(
                outcome
                    .accounts
                    .iter()
                    .map(|(&local, &account)| (partition.global_index(local), account)),
            );
        }
        created.sort_unstable_by_key(|&(index, _)| index);
        let updates: Vec<(u64, Digest)> = accounts
            .par_iter()
            .map(|(index, account)| (*index, account.leaf()))
            .collect();
        self.tree_mut().apply_updates(&updates)?;
        Ok(BatchOutcome {
            old_root,
            new_root: self.root(),
            partition_roots: (0..partitions)
                .map(|p| self.tree().partition_root(p))
                .collect::<Result<_>>()?,
            accounts,
            created,
            steps: outcomes
                .iter()
                .map(|outcome| outcome.steps.clone())
                .collect(),
            sent_chains: outcomes.into_iter().map(|outcome| outcome.sent).collect(),
            fees,
            deposits: deposits.len(),
        })
    }
}
