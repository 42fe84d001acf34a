//! Executing one partition's operations on its own.

use std::collections::{BTreeMap, HashMap};

use super::{chain_step, Operation, Step};
use crate::{
    account::{Account, Payment},
    hash::Digest,
    schnorr::PublicKey,
    state::PartitionState,
    token::{Token, TOKENS},
    Error, Result,
};

/// Global index of every key a partition credits in a batch, existing or to be created
/// (in creation order): what senders in other partitions put in their messages.
pub type Recipients = HashMap<PublicKey, u64>;

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
    /// The fees the partition's senders paid, per token.
    pub fees: [u64; TOKENS],
    /// The leaf updates, in order: what the partition's chunk proofs prove.
    pub steps: Vec<Step>,
}

impl PartitionState {
    /// The global index of every key `operations` credit, assigning new accounts the next
    /// free indices in order of their first credit (as [`Self::execute`] creates them).
    pub fn recipients(&self, operations: &[Operation]) -> Recipients {
        let mut recipients = Recipients::new();
        let mut next = self.len();
        for operation in operations {
            let to = match operation {
                Operation::Transfer { transfer, .. } => &transfer.to,
                Operation::Receive { to, .. } => to,
                Operation::Deposit { deposit, .. } => &deposit.to,
                Operation::Send { .. } | Operation::Withdraw { .. } => continue,
            };
            if recipients.contains_key(to) {
                continue;
            }
            let local = match self.get(to) {
                Some((local, _)) => local,
                None => {
                    next += 1;
                    next - 1
                }
            };
            recipients.insert(*to, self.global_index(local));
        }
        recipients
    }

    /// Runs `operations` against this partition without changing it. Fails on the first
    /// operation that is invalid in order (which a sealed batch never has).
    ///
    /// `recipients[b]` are partition `b`'s [`Self::recipients`]: a message to another
    /// partition names the index the recipient will be credited at.
    pub fn execute(
        &self,
        operations: &[Operation],
        recipients: &[Recipients],
    ) -> Result<PartitionOutcome> {
        let partitions = recipients.len();
        let mut run = Run {
            base: self,
            recipients,
            outcome: PartitionOutcome {
                partition: self.partition(),
                accounts: BTreeMap::new(),
                created: Vec::new(),
                sent: vec![Digest::ZERO; partitions],
                received: vec![Digest::ZERO; partitions],
                fees: [0; TOKENS],
                steps: Vec::new(),
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
    recipients: &'a [Recipients],
    outcome: PartitionOutcome,
    created_index: HashMap<PublicKey, u64>,
}

impl Run<'_> {
    fn apply(&mut self, operation: &Operation) -> Result<()> {
        let own = self.base.partition();
        match *operation {
            Operation::Deposit { offset, deposit } => {
                let (to_index, created) =
                    self.credit_account(&deposit.to, deposit.token, deposit.amount)?;
                self.outcome.steps.push(Step::Deposit {
                    offset,
                    deposit,
                    to_index,
                    created,
                });
                Ok(())
            }
            Operation::Withdraw {
                position,
                withdrawal,
            } => {
                let from_index = self.pay(&withdrawal.from, &withdrawal.payment())?;
                self.outcome.steps.push(Step::Withdraw {
                    position,
                    withdrawal,
                    from_index,
                });
                Ok(())
            }
            Operation::Transfer { position, transfer } => {
                let to_index = self.recipient_index(own, &transfer.to)?;
                self.debit(position, &transfer, own, to_index)?;
                self.credit(position, &transfer.to, transfer.token, transfer.amount, own)
            }
            Operation::Send {
                position,
                transfer,
                to_partition,
            } => {
                let to_index = self.recipient_index(to_partition, &transfer.to)?;
                self.debit(position, &transfer, to_partition, to_index)?;
                let chain = &mut self.outcome.sent[to_partition];
                *chain = chain_step(
                    *chain,
                    &transfer.to,
                    to_index,
                    transfer.token,
                    transfer.amount,
                );
                Ok(())
            }
            Operation::Receive {
                position,
                to,
                token,
                amount,
                from_partition,
            } => {
                let to_index = self.recipient_index(own, &to)?;
                let chain = &mut self.outcome.received[from_partition];
                *chain = chain_step(*chain, &to, to_index, token, amount);
                self.credit(position, &to, token, amount, from_partition)
            }
        }
    }

    fn recipient_index(&self, partition: usize, key: &PublicKey) -> Result<u64> {
        self.recipients
            .get(partition)
            .and_then(|recipients| recipients.get(key))
            .copied()
            .ok_or_else(|| Error::UnknownAccount {
                account: key.to_string(),
            })
    }

    fn debit(
        &mut self,
        position: u32,
        transfer: &crate::transfer::Transfer,
        to_partition: usize,
        to_index: u64,
    ) -> Result<()> {
        let from_index = self.pay(&transfer.from, &transfer.payment())?;
        self.outcome.steps.push(Step::Debit {
            position,
            transfer: *transfer,
            from_index,
            to_partition,
            to_index,
        });
        Ok(())
    }

    /// Debits `payment` from `from`'s account and collects its fee; returns the account's
    /// global index.
    fn pay(&mut self, from: &PublicKey, payment: &Payment) -> Result<u64> {
        let (local, sender) = self.existing(from)?;
        let debited = sender.debited(payment)?;
        self.store(local, debited);
        self.add_fee(payment.token, payment.fee)?;
        Ok(self.base.global_index(local))
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

    fn credit(
        &mut self,
        position: u32,
        to: &PublicKey,
        token: Token,
        amount: u64,
        from_partition: usize,
    ) -> Result<()> {
        let (to_index, created) = self.credit_account(to, token, amount)?;
        self.outcome.steps.push(Step::Credit {
            position,
            to: *to,
            to_index,
            token,
            amount,
            created,
            from_partition,
        });
        Ok(())
    }

    /// Credits `amount` of `token` to `to`'s account, creating it at the next free index
    /// if the key has none; returns its global index and whether it was created.
    fn credit_account(&mut self, to: &PublicKey, token: Token, amount: u64) -> Result<(u64, bool)> {
        let (local, recipient, created) = match self.lookup(to) {
            Some((local, account)) => (local, account, false),
            None => {
                let local = self.base.len() + self.outcome.created.len() as u64;
                self.outcome.created.push(*to);
                self.created_index.insert(*to, local);
                (local, Account::new(*to), true)
            }
        };
        self.store(local, recipient.credited(token, amount)?);
        Ok((self.base.global_index(local), created))
    }

    fn store(&mut self, local: u64, account: Account) {
        self.outcome.accounts.insert(local, account);
    }

    fn add_fee(&mut self, token: Token, fee: u64) -> Result<()> {
        let total = &mut self.outcome.fees[token.index()];
        *total = total.checked_add(fee).ok_or(Error::AmountOverflow)?;
        Ok(())
    }
}
