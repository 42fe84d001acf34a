//! Executing one partition's operations on its own.

use std::collections::{BTreeMap, HashMap};

use super::{chain_step, Operation};
use crate::{
    account::Account, hash::Digest, schnorr::PublicKey, state::PartitionState, Error, Result,
};

/// What a partition's execution produced, staged until the whole batch is known to be
/// consistent ([`PartitionState::commit`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionOutcome {
    /// The partition executed.
    pub partition: usize,
    /// The final state of every account the batch touched, by local index (accounts
    /// created by the batch included).
    pub accounts: BTreeMap<u64, Account>,
    /// The accounts the batch created, in local index order (they follow the existing ones).
    pub created: Vec<PublicKey>,
    /// Per destination partition, the chain of messages sent to it.
    pub sent: Vec<Digest>,
    /// Per source partition, the chain of messages received from it.
    pub received: Vec<Digest>,
    /// The fees the partition's senders paid.
    pub fees: u64,
}

impl PartitionState {
    /// Runs `operations` against this partition without changing it. Fails on the first
    /// operation that is invalid in order (which a sealed batch never has).
    pub fn execute(&self, operations: &[Operation], partitions: usize) -> Result<PartitionOutcome> {
        let mut run = Run {
            base: self,
            outcome: PartitionOutcome {
                partition: self.partition(),
                accounts: BTreeMap::new(),
                created: Vec::new(),
                sent: vec![Digest::ZERO; partitions],
                received: vec![Digest::ZERO; partitions],
                fees: 0,
            },
            created_index: HashMap::new(),
        };
        for operation in operations {
            run.apply(operation)?;
        }
        self.check_capacity(run.outcome.created.len() as u64)?;
        Ok(run.outcome)
    }

    /// Applies an outcome of [`Self::execute`] on this (unchanged) partition.
    pub fn commit(&mut self, outcome: &PartitionOutcome) -> Result<()> {
        for &key in &outcome.created {
            self.push(Account::new(key))?;
        }
        for (&local, &account) in &outcome.accounts {
            self.set(local, account);
        }
        Ok(())
    }
}

/// The working state of one partition's execution: its base plus staged changes.
struct Run<'a> {
    base: &'a PartitionState,
    outcome: PartitionOutcome,
    created_index: HashMap<PublicKey, u64>,
}

impl Run<'_> {
    fn apply(&mut self, operation: &Operation) -> Result<()> {
        match *operation {
            Operation::Transfer { transfer, .. } => {
                let (from, sender) = self.existing(&transfer.from)?;
                self.store(from, sender.debited(&transfer)?);
                self.add_fee(transfer.fee)?;
                self.credit(&transfer.to, transfer.amount)
            }
            Operation::Send {
                transfer,
                to_partition,
                ..
            } => {
                let (from, sender) = self.existing(&transfer.from)?;
                self.store(from, sender.debited(&transfer)?);
                self.add_fee(transfer.fee)?;
                let chain = &mut self.outcome.sent[to_partition];
                *chain = chain_step(*chain, &transfer.to, transfer.amount);
                Ok(())
            }
            Operation::Receive {
                to,
                amount,
                from_partition,
                ..
            } => {
                let chain = &mut self.outcome.received[from_partition];
                *chain = chain_step(*chain, &to, amount);
                self.credit(&to, amount)
            }
        }
    }

    /// The current local index and state of `key`'s account, if it exists.
    fn lookup(&self, key: &PublicKey) -> Option<(u64, Account)> {
        let local = match self.created_index.get(key) {
            Some(&local) => local,
            None => self.base.get(key)?.0,
        };
        let account = match self.outcome.accounts.get(&local) {
            Some(account) => *account,
            None => *self.base.account(local).expect("indexed accounts exist"),
        };
        Some((local, account))
    }

    fn existing(&self, key: &PublicKey) -> Result<(u64, Account)> {
        self.lookup(key).ok_or_else(|| Error::UnknownAccount {
            account: key.to_string(),
        })
    }

    fn credit(&mut self, to: &PublicKey, amount: u64) -> Result<()> {
        let (local, recipient) = match self.lookup(to) {
            Some(found) => found,
            None => {
                let local = self.base.len() + self.outcome.created.len() as u64;
                self.outcome.created.push(*to);
                self.created_index.insert(*to, local);
                (local, Account::new(*to))
            }
        };
        self.store(local, recipient.credited(amount)?);
        Ok(())
    }

    fn store(&mut self, local: u64, account: Account) {
        self.outcome.accounts.insert(local, account);
    }

    fn add_fee(&mut self, fee: u64) -> Result<()> {
        self.outcome.fees = self
            .outcome
            .fees
            .checked_add(fee)
            .ok_or(Error::AmountOverflow)?;
        Ok(())
    }
}
